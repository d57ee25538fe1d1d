"""Each bijlage as a sealed PDF: made, verified, and found out when the file or the register changes."""
import json
import os
import stat

import pytest
from sqlalchemy import select, text

from engine import appendix_pdf
from engine.models import Appendix
from tests.conftest import (
    command_line, consent_all, open_consultation, start_procedure)
from tests.web_support import browser


def adopt(app, text='Voeg werklijn 5 toe.', **extra):
    pid = start_procedure(app, 'wijziging', by='bzk', title='Werklijn 5: warmte', text=text, motivation='Nieuwe inzichten.',
                              **extra)['id']
    open_consultation(app, pid)
    consent_all(app, pid)
    return app.appendices()[-1]['number']


@pytest.fixture
def adopted(app):
    return adopt(app)


def signed_part_end(pdf):
    """Where the signature's /Contents begins: every byte before it is signed."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    [signature] = PdfFileReader(io.BytesIO(bytes(pdf))).embedded_signatures
    return signature.sig_object['/ByteRange'][1]


def test_a_bijlage_pdf_is_sealed_and_matches_the_register(app, adopted):
    pdf = app.appendix_pdf(adopted)
    assert pdf.startswith(b'%PDF-')
    verdict = app.verify_appendix_pdf(pdf)
    assert verdict.ok and verdict.number == adopted, verdict.message
    with app.unit_of_work() as uow:
        entry = appendix_pdf.register_entry(uow.session, adopted)
    [attached] = [e for e in app.audit() if e['event'] == 'appendix_attached']
    assert entry['audit_head'] == f"{attached['seq']}:{attached['hash']}"
    [appendix] = app.appendices()
    assert entry['text_sha256'] == __import__('hashlib').sha256(appendix['body'].encode('utf-8')).hexdigest()
    assert len(entry['statements']) == 17
    assert set(entry['statements'][0]) == {'party', 'party_name', 'representative', 'date', 'decision', 'statement'}


def test_one_flipped_byte_is_found(app, adopted):
    pdf = app.appendix_pdf(adopted)
    end = signed_part_end(pdf)
    for position in (200, end // 3, end // 2, end - 50):
        changed = bytearray(pdf)
        changed[position] ^= 0x01
        verdict = app.verify_appendix_pdf(bytes(changed))
        assert not verdict.ok, (position, verdict.message)


def contents_of(pdf):
    """The signature's /Contents as the file holds it: where its ``<`` and ``>`` are, and the DER it holds."""
    import io

    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader
    [signature] = PdfFileReader(io.BytesIO(bytes(pdf))).embedded_signatures
    _, start, end, _ = signature.sig_object['/ByteRange']
    raw = bytes.fromhex(bytes(pdf[start + 1:end - 1]).decode('ascii'))
    return start, end, raw[:len(cms.ContentInfo.load(raw).dump())]


@pytest.mark.parametrize('databases', ['sqlite'], indirect=True)  # the PDF is the same from either database
def test_flips_inside_the_signatures_contents_are_found(app, adopted):
    """pyHanko reads the CMS in /Contents and ignores what follows it, reads hex in either case, and does not
    use every field of the CMS: each of these single-byte flips left the signature "intact" and the PDF was
    answered "unchanged since sealing". /Contents must be exactly what sealing wrote."""
    from asn1crypto import cms
    pdf = app.appendix_pdf(adopted)
    start, end, der = contents_of(pdf)
    digits = start + 1  # the first hex digit

    def at(part, offset=0):
        """The file position of the hex digit ``offset`` digits into ``part`` of the DER."""
        return digits + 2 * der.index(part) + offset

    sha256 = bytes.fromhex('0609608648016503040201')  # the OID, first listed in digestAlgorithms
    data = bytes.fromhex('06092A864886F70D010701')  # the OID of the signed content's type
    certificate = cms.ContentInfo.load(der)['content']['certificates'][0].chosen.dump()
    letter = next(i for i in range(digits, digits + 2 * len(der)) if pdf[i] in b'ABCDEF')
    padding = digits + 2 * len(der)
    flips = {
        'the first byte of the padding': (padding, 0x01),
        'a byte in the middle of the padding': ((padding + end) // 2, 0x01),
        'the last byte of the padding': (end - 2, 0x01),
        'a hex digit of the signature in lower case': (letter, 0x20),
        'a hex digit of the padding in another digit': (end - 40, 0x08),
        'the digest algorithm the signature lists': (at(sha256, 2 * len(sha256) - 1), 0x01),
        'the type of the signed content': (at(data, 2 * len(data) - 1), 0x01),
        'a byte inside the embedded certificate': (at(certificate, 300), 0x01),
        'a byte of the signature value': (digits + 2 * len(der) - 6, 0x01),
        'the opening <': (start, 0x01),
        'the closing >': (end - 1, 0x01),
    }
    for what, (position, mask) in flips.items():
        changed = bytearray(pdf)
        changed[position] ^= mask
        assert bytes(changed) != pdf, what
        verdict = app.verify_appendix_pdf(bytes(changed))
        assert not verdict.ok, (what, position, verdict.message)
        assert 'unchanged since sealing' not in verdict.message and '\n' not in verdict.message, (what, verdict.message)
    # and whatever byte of /Contents is flipped, the answer is a reason, never a traceback
    for position in range(start, end, 157):
        changed = bytearray(pdf)
        changed[position] ^= 0x01
        verdict = app.verify_appendix_pdf(bytes(changed))
        assert not verdict.ok and verdict.message, position


def test_a_tampered_register_is_found(app, adopted):
    pdf = app.appendix_pdf(adopted)
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE appendices SET body = body || ' En nog iets.' WHERE number = :n"),
                           {'n': adopted})
    verdict = app.verify_appendix_pdf(pdf)
    assert not verdict.ok and 'no longer matches' in verdict.message and 'text_sha256' in verdict.message


def test_changed_statements_in_the_register_are_found(app, adopted):
    pdf = app.appendix_pdf(adopted)
    with app.unit_of_work() as uow:  # straight into the row, past every rule of the engine
        row = uow.session.scalars(select(Appendix)).one()
        statements = [dict(s) for s in row.statements]
        statements[3]['decision'] = 'objection'
        row.statements = statements
        uow.commit()
    verdict = app.verify_appendix_pdf(pdf)
    assert not verdict.ok and 'the statements differ' in verdict.message


def test_the_documents_of_the_procedure_are_in_the_sealed_entry(app):
    from engine import documents
    from engine.unit_of_work import Actor
    pid = start_procedure(app, 'wijziging', by='bzk', title='Begroting', text='Zie de begroting.')['id']
    doc = app.add_document('begroting.txt', 'Begroting 2022: EUR 10.000\n'.encode())
    with app.unit_of_work() as uow:
        documents.attach(uow.session, uow.now, Actor('mevrouw K. Ollongren', 'bzk'), [doc['id']], pid, 'request')
        uow.commit()
    assert app.show(pid)['documents'] == [doc]
    open_consultation(app, pid)
    consent_all(app, pid)
    pdf = app.appendix_pdf(1)
    with app.unit_of_work() as uow:
        entry = appendix_pdf.register_entry(uow.session, 1)
    assert entry['documents'] == [{'id': doc['id'], 'name': 'begroting.txt', 'purpose': 'request',
                                   'uploaded_for': 'admin', 'sha256': doc['sha256']}]
    assert app.verify_appendix_pdf(pdf).ok
    with app.engine.begin() as connection:
        connection.execute(text("UPDATE documents SET name = 'iets-anders.txt'"))
    verdict = app.verify_appendix_pdf(pdf)
    assert not verdict.ok and 'the documents differ' in verdict.message


def test_a_pdf_sealed_by_another_seal_is_not_trusted(app, adopted, tmp_path):
    from engine.seal import SealSettings, make_self_signed
    pdf = app.appendix_pdf(adopted)
    app.seal = SealSettings(make_self_signed(tmp_path / 'other.p12', 'Iemand anders'), None, True)
    verdict = app.verify_appendix_pdf(pdf)
    assert not verdict.ok and "not made with this installation's seal" in verdict.message


@pytest.mark.parametrize('databases', ['sqlite'], indirect=True)  # the PDF is the same from either database
def test_a_seal_with_another_kind_of_key_signs_too(app, adopted, tmp_path):
    """The seal's signer signs with the RSA key it holds, and leaves any other key to pyHanko: a seal with an
    elliptic-curve key makes PDFs that verify as well."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from engine.seal import SealSettings, make_self_signed
    path = make_self_signed(tmp_path / 'ec.p12', 'Zegel met een EC-sleutel', key=ec.generate_private_key(ec.SECP256R1()))
    app.seal = SealSettings(path, None, True)
    verdict = app.verify_appendix_pdf(app.appendix_pdf(adopted))
    assert verdict.ok and verdict.number == adopted, verdict.message


def test_the_public_deal_leaves_out_confidential_texts(app):
    adopt(app)
    adopt(app, text='Het geheime plan.', confidential=True)
    with app.unit_of_work() as uow:
        public = appendix_pdf.deal_html(uow.session, public=True)
        full = appendix_pdf.deal_html(uow.session, public=False)
    assert 'Gemeente Utrecht' in public and 'eindigt op 1 april 2024' in public
    assert 'Voeg werklijn 5 toe.' in public and 'Vertrouwelijk: de tekst is alleen voor Partijen.' in public
    assert 'Het geheime plan.' in full and 'Het geheime plan.' not in public
    assert full.count('stemt in') == 32 and public.count('stemt in') == 16  # 16 statements each
    assert app.deal_pdf(public=True).startswith(b'%PDF-')


def test_the_routes_obey_confidentiality(app, make_site):
    adopt(app)
    adopt(app, confidential=True)
    site = make_site()
    anonymous = site.test_client()
    first = anonymous.get('/bijlagen/1.pdf')
    assert first.status_code == 200 and first.mimetype == 'application/pdf'
    assert app.verify_appendix_pdf(first.data).ok
    assert anonymous.get('/bijlagen/2.pdf').status_code == 302, 'confidential: log in first'
    assert anonymous.get('/bijlagen/3.pdf').status_code == 404
    assert anonymous.get(f'/bijlagen/{2 ** 70}.pdf').status_code == 404
    assert anonymous.get('/deal.pdf').mimetype == 'application/pdf'
    zeist = browser(site, 'zeist')
    assert zeist.get('/bijlagen/2.pdf').status_code == 200


def test_the_commands(databases, tmp_path):
    env = {'CITYDEAL_DATABASE_URL': databases.new(), 'CITYDEAL_NOW': '2021-04-12T10:00:00+02:00',
           'PATH': '/usr/bin:/bin'}
    citydeal = command_line(env, tmp_path)

    assert 'seal: made' in citydeal('init').stdout
    seal = tmp_path / 'var' / 'seal.p12'
    assert stat.S_IMODE(os.stat(seal).st_mode) == 0o600
    before = seal.read_bytes()
    assert 'seal: kept' in citydeal('init').stdout and seal.read_bytes() == before
    from citydeal.bootstrap import CityDeal
    from engine.clock import FakeClock
    from tests.conftest import START
    app = CityDeal(url=env['CITYDEAL_DATABASE_URL'], clock=FakeClock(START))
    try:
        adopt(app)
    finally:
        app.close()
    assert json.loads(citydeal('appendices', '--json').stdout)[0]['number'] == 1
    assert citydeal('appendices').stdout.startswith('Bijlage 1:')
    out = tmp_path / 'bijlage-1.pdf'
    citydeal('appendices', 'pdf', '1', '-o', str(out))
    assert citydeal('appendices', 'verify', str(out)).stdout.startswith('OK: sealed by')
    pdf = bytearray(out.read_bytes())
    pdf[signed_part_end(pdf) // 2] ^= 0x01
    out.write_bytes(bytes(pdf))
    assert 'changed' in citydeal('appendices', 'verify', str(out), expect=1).stdout
    citydeal('appendices', 'pdf', '1', '-o', str(out))
    from sqlalchemy import create_engine
    engine = create_engine(env['CITYDEAL_DATABASE_URL'])
    with engine.begin() as connection:
        connection.execute(text("UPDATE appendices SET title = 'Iets anders' WHERE number = 1"))
    engine.dispose()
    assert 'no longer matches' in citydeal('appendices', 'verify', str(out), expect=1).stdout
    assert 'error: N:' in citydeal('appendices', 'pdf', 'een', '-o', 'x.pdf', expect=2).stderr
    assert 'error: number: no bijlage 9' in citydeal('appendices', 'pdf', '9', '-o', 'x.pdf', expect=2).stderr
    assert 'error: target:' in citydeal('appendices', 'verify', expect=2).stderr
