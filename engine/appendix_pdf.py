"""Each bijlage as a sealed PDF, and the consolidated deal as one.

Rendered from HTML by WeasyPrint (PDF/A-3b: fonts embedded, an sRGB output intent, and the register
entry as an embedded file ``bijlage.json``), then sealed with a PAdES signature by pyHanko using the
installation's seal (engine.seal). ``verify`` checks the three things a reader needs: the signature
is valid and made by this installation's seal, the file is unchanged since it was sealed, and the
embedded entry matches register entry N (title, date, text hash, statements, chain head at adoption).
"""
import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select

from engine import confidentiality, register, seal as seal_
from engine.documents import MAX_ID
from engine.dates import local_date, shown
from engine.errors import NotFound
from engine.models import Appendix, AuditEntry, Deal, Document, Procedure
from notifications.render import dutch_date

TEMPLATES = Path(__file__).parent / 'templates'
ATTACHMENT = 'bijlage.json'
#: bumped when the embedded entry's fields change; verify reads every format it ever wrote
FORMAT = 1
FIELD_NAME = 'Zegel'
DECISIONS = {'consent': 'instemming', 'objection': 'bezwaar'}

_templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(['html']),
                         undefined=StrictUndefined)
_templates.filters.update(dutch_date=dutch_date, decision=lambda d: DECISIONS.get(d, d or '–'))


def text_sha256(body):
    """The SHA-256 (hex) of the bijlage's text as stored, in UTF-8."""
    return hashlib.sha256(body.encode('utf-8')).hexdigest()


def _head_at_adoption(session, appendix):
    entries = session.scalars(select(AuditEntry).where(AuditEntry.procedure_id == appendix.procedure_id,
                                                       AuditEntry.event == 'appendix_attached')
                              .order_by(AuditEntry.seq)).all()
    for entry in entries:
        if entry.data.get('number') == appendix.number:
            return f'{entry.seq}:{entry.hash}'
    return None


def _appendix(session, number):
    found = session.scalars(select(Appendix).where(Appendix.number == number)).first() \
        if isinstance(number, int) and 0 < number <= MAX_ID else None
    if found is None:
        raise NotFound.one('appendix.not_found', 'number', number=number)
    return found


def register_entry(session, number):
    """Register entry N as the PDF embeds it and verify compares it."""
    appendix = _appendix(session, number)
    return {'format': FORMAT, 'deal': register.definition(_deal(session)).slug, 'number': appendix.number,
            'title': appendix.title, 'adopted': shown(appendix.adopted_dt), 'text_sha256': text_sha256(appendix.body),
            'statements': [{key: s.get(key) for key in ('party', 'party_name', 'representative', 'date', 'decision',
                                                        'statement')} for s in appendix.statements],
            'documents': [{key: getattr(d, key) for key in ('id', 'name', 'purpose', 'uploaded_for', 'sha256')}
                          for d in session.scalars(select(Document).where(Document.procedure_id == appendix.procedure_id)
                                                   .order_by(Document.id))],
            'audit_head': _head_at_adoption(session, appendix)}


def _deal(session):
    return session.scalars(select(Deal)).one()


def _party_names(session):
    return {p.code: p.name for p in register.parties(session)}


def _kept_from_public(session, appendix):
    procedure = session.get(Procedure, appendix.procedure_id)
    return confidentiality.kept_from_public(session, procedure.id, procedure.request)


def is_confidential(session, number):
    """Whether any text of bijlage N is kept from the public: its sealed PDF, which holds every text in full
    (the register entry it embeds must match), is then for logged-in people only."""
    whole, parties = _kept_from_public(session, _appendix(session, number))
    return whole or bool(parties)


def _section(session, appendix, public):
    entry = register_entry(session, appendix.number)
    whole, parties = _kept_from_public(session, appendix) if public else (False, frozenset())
    documents = [d for d in entry['documents'] if d['uploaded_for'] not in parties]
    return dict(entry, body=None if whole else appendix.body, hidden=whole, hidden_statements=parties,
                documents=documents, adopted_on=local_date(appendix.adopted_dt))


def render_appendix(session, number, settings):
    """Bijlage N as a sealed PDF, in full (the caller decides who may have it)."""
    appendix = _appendix(session, number)
    deal = _deal(session)
    entry = register_entry(session, number)
    html = _templates.get_template('appendix.html').render(deal=deal, appendices=[_section(session, appendix, False)],
                                                           front=False, party_names=_party_names(session))
    return seal(_pdf(html, json.dumps(entry, ensure_ascii=False, indent=1, sort_keys=True)), settings,
                deal.citeertitel)


def deal_html(session, public):
    """The consolidated deal as HTML: a front page with the parties and the term, then every bijlage;
    ``public`` leaves out the texts of confidential bijlagen (their statements' texts too)."""
    appendices = session.scalars(select(Appendix).order_by(Appendix.number)).all()
    return _templates.get_template('appendix.html').render(
        deal=_deal(session), appendices=[_section(session, a, public) for a in appendices], front=True,
        parties=register.parties(session), public=public, party_names=_party_names(session))


def render_deal(session, settings, public):
    """The consolidated deal as one sealed PDF (see ``deal_html``)."""
    return seal(_pdf(deal_html(session, public), None), settings, _deal(session).citeertitel)


def _pdf(html, attachment):
    import weasyprint
    attachments = [weasyprint.Attachment(string=attachment, name=ATTACHMENT, relationship='Data',
                                         description='Register entry of this bijlage')] if attachment else []
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it (a ResourceWarning, nothing else).
        warnings.simplefilter('ignore', ResourceWarning)
        return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
            pdf_variant='pdf/a-3b', attachments=attachments)


def _signer(loaded):
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from engine.seal_signer import SealSigner
    certificates = [asn1_x509.Certificate.load(der) for der in loaded.certificates_der()]
    return SealSigner(loaded.key, signing_cert=certificates[0],
                      cert_registry=SimpleCertificateStore.from_certs(certificates))


def seal(pdf, settings, title):
    """A PAdES baseline signature over the whole file with the installation's seal; ``title``: the deal's
    citeertitel, named in the signature's reason."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(field_name=FIELD_NAME, subfilter=SigSeedSubFilter.PADES,
                                            md_algorithm='sha256', reason=f'Zegel van de registratie van de {title}')
    return signers.sign_pdf(writer, metadata, signer=_signer(seal_.load(settings))).getvalue()


@dataclass(frozen=True)
class PdfVerdict:
    ok: bool
    message: str
    number: int | None = None


def verify(session, pdf, settings):
    """Is this a bijlage sealed by this installation, unchanged, and does it match the register?"""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from asn1crypto import x509 as asn1_x509
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as err:  # noqa: BLE001 - whatever the parser trips on, the answer is the same: exit 1
        return PdfVerdict(False, f'not a readable PDF (changed, or not a PDF): {_reason(err)}')
    if len(signatures) != 1:
        return PdfVerdict(False, f'the PDF holds {len(signatures)} signatures; a sealed bijlage holds exactly one')
    certificates = seal_.load(settings).certificates_der()
    try:
        byte_range = list(signatures[0].sig_object['/ByteRange'])
    except Exception as err:  # noqa: BLE001
        return PdfVerdict(False, f'the PDF was changed after it was sealed: its /ByteRange cannot be read '
                                 f'({_reason(err)})')
    problem = seal_.contents_problem(pdf, byte_range)
    if problem:
        return PdfVerdict(False, f'the PDF was changed after it was sealed: {problem}')
    roots = [asn1_x509.Certificate.load(der) for der in certificates]
    try:
        status = validate_pdf_signature(signatures[0], ValidationContext(trust_roots=roots))
    except Exception as err:  # noqa: BLE001 - pyHanko raises more than its own errors on a malformed signature
        return PdfVerdict(False, f'the signature cannot be checked (the PDF was changed): {_reason(err)}')
    if not status.intact:
        return PdfVerdict(False, 'the PDF was changed after it was sealed: the signed bytes no longer match the '
                                 'signature')
    if not status.valid:
        return PdfVerdict(False, 'the signature is not valid')
    if not status.trusted:
        return PdfVerdict(False, "the signature is intact but not made with this installation's seal")
    if status.coverage.name != 'ENTIRE_FILE' or status.modification_level.name != 'NONE':
        return PdfVerdict(False, f'the PDF was changed after it was sealed (signature covers '
                                 f'{status.coverage.name.lower()}, modifications {status.modification_level.name.lower()})')
    problem = seal_.certificates_problem(pdf, byte_range, certificates)
    if problem:
        return PdfVerdict(False, f'the PDF was changed after it was sealed: {problem}')
    try:
        embedded = _embedded_entry(reader)
    except Exception as err:  # noqa: BLE001
        return PdfVerdict(False, f'the sealed PDF holds no readable {ATTACHMENT}, so it is not a bijlage: {err}')
    number = embedded.get('number')
    try:
        current = register_entry(session, number)
    except NotFound:
        return PdfVerdict(False, f'the PDF is bijlage {number}, which is not in the register', number)
    different = [key for key in ('deal', 'title', 'adopted', 'text_sha256', 'statements', 'documents', 'audit_head')
                 if embedded.get(key) != current[key]]
    if different:
        return PdfVerdict(False, f'bijlage {number} in the register no longer matches the sealed PDF: '
                                 + ', '.join(_difference(key, embedded, current) for key in different), number)
    return PdfVerdict(True, f'OK: sealed by {status.signing_cert.subject.human_friendly}, unchanged since sealing, '
                            f'and matches bijlage {number} of the register (text SHA-256 {current["text_sha256"]}, '
                            f'{len(current["statements"])} statements, chain head at adoption '
                            f'{current["audit_head"]})', number)


def _reason(err):
    """An error of the PDF or CMS parser on one line, named by its type."""
    words = ' '.join(str(err).split())
    return f'{type(err).__name__}: {words}' if words else type(err).__name__


def _difference(key, embedded, current):
    if key in ('statements', 'documents'):
        return f'the {key} differ'
    return f'{key}: the PDF says {embedded.get(key)!r}, the register {current[key]!r}'


def _embedded_entry(reader):
    names = reader.root['/Names']['/EmbeddedFiles']['/Names']
    for index in range(0, len(names), 2):
        if str(names[index]) == ATTACHMENT:
            spec = names[index + 1].get_object()
            return json.loads(spec['/EF']['/F'].get_object().data.decode('utf-8'))
    raise KeyError(f'no embedded file {ATTACHMENT}')
