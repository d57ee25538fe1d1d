"""What a document may be, decided by its content: an Office file with macros is refused, whatever its name."""
import io
import zipfile

import pytest

from engine import documents
from engine.errors import CommandRefused

WORD = [('[Content_Types].xml', '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
                                'wordprocessingml.document.main+xml"/></Types>'),
        ('_rels/.rels', '<Relationships/>'), ('word/document.xml', '<w:document/>')]
EXCEL = [('[Content_Types].xml', '<Types/>'), ('_rels/.rels', '<Relationships/>'), ('xl/workbook.xml', '<workbook/>')]
MACRO_TYPES = ('<Types><Override ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>'
               '</Types>')


def _zip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def test_a_docx_and_an_xlsx_without_macros_are_documents():
    assert documents.recognise(_zip(WORD)) == documents.DOCX
    assert documents.recognise(_zip(EXCEL)) == documents.XLSX


@pytest.mark.parametrize('entries', [
    WORD + [('word/vbaProject.bin', b'\xd0\xcf\x11\xe0')],           # a docm renamed docx
    EXCEL + [('xl/vbaProject.bin', b'\xd0\xcf\x11\xe0')],            # an xlsm renamed xlsx
    [(name, MACRO_TYPES if name == '[Content_Types].xml' else content) for name, content in WORD],
], ids=['docm', 'xlsm', 'macro-enabled content type'])
def test_an_office_file_with_macros_is_refused_naming_the_field(entries):
    with pytest.raises(CommandRefused) as refused:
        documents.recognise(_zip(entries))
    [problem] = refused.value.problems
    assert (problem.code, problem.field) == ('document.macros_not_allowed', 'document')
    assert "Macro's zijn niet toegestaan" in problem.message('nl') and 'macros' in problem.message('en')


def test_each_refused_file_is_named_and_every_one_is_reported():
    attachments = documents.Attachments(files=(('plan.docx', _zip(WORD + [('word/vbaProject.bin', b'x')])),
                                               ('leeg.txt', b''), ('goed.docx', _zip(WORD))))
    assert [(p.code, p.params['file']) for p in attachments.problems()] == [
        ('document.macros_not_allowed', 'plan.docx'), ('document.empty', 'leeg.txt')]
    with pytest.raises(CommandRefused):
        attachments.check('request')


def test_a_step_that_takes_no_files_refuses_them():
    with pytest.raises(CommandRefused) as refused:
        documents.Attachments(files=(('goed.docx', _zip(WORD)),)).check(None)
    assert refused.value.problems[0].code == 'document.not_taken'
    documents.NONE.check(None)  # nothing sent: nothing to refuse
