"""Documents in the record: files stored content-addressed by SHA-256, checked by what they contain.

A file is named by the SHA-256 of its bytes and written once: to a temporary file in the same
folder, flushed to disk, then renamed into place (``os.replace``), so that a reader sees the whole
file or none. The same bytes uploaded twice are the same file; a stored file is never overwritten.
Its row in ``documents`` and an audit entry holding the hash are written in the caller's transaction.

What is allowed is decided by the content, never by the name: PDF, ODF text and spreadsheet
(a zip whose ``mimetype`` entry says so), OOXML docx and xlsx (a zip with ``[Content_Types].xml``
and the part that makes it a document or a workbook; never one with macros, a docm or xlsm renamed),
and plain UTF-8 text.
"""
import hashlib
import io
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import filetype
from sqlalchemy import select

from engine import confidentiality, roles, rules
from engine.accounts import by_account
from engine.database import create_private_dir
from engine import audit
from engine.errors import CommandRefused, NotFound
from engine.models import Appendix, Document, Procedure

FIELD = 'document'
MAX_BYTES = 20 * 1024 * 1024
MAX_NAME = 255
#: the largest id an INTEGER column holds; a larger one is simply not there (not an overflow)
MAX_ID = 2 ** 31 - 1
DEFAULT_DIR = 'var/documents'

PDF = 'application/pdf'
ODT = 'application/vnd.oasis.opendocument.text'
ODS = 'application/vnd.oasis.opendocument.spreadsheet'
DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
TEXT = 'text/plain; charset=utf-8'
ALLOWED = (PDF, ODT, ODS, DOCX, XLSX, TEXT)
#: what a refusal calls the allowed types
ALLOWED_NAMES = 'PDF, ODF (odt, ods), OOXML (docx, xlsx) or plain UTF-8 text'
#: zip-based types as the ``filetype`` package names them
_ZIPPED = {'application/zip', ODT, ODS, DOCX, XLSX, 'application/epub+zip',
           'application/vnd.openxmlformats-officedocument.presentationml.presentation',
           'application/vnd.oasis.opendocument.presentation'}


def documents_dir(environ=os.environ):
    return Path(environ.get('CITYDEAL_DOCUMENTS_DIR') or DEFAULT_DIR)


def _refused(code, **params):
    return CommandRefused.one(code, FIELD, rules.DOCUMENTS, **params)


def recognise(content):
    """The media type of an allowed document, or CommandRefused naming the field ``document``."""
    if not content:
        raise _refused('document.empty')
    if len(content) > MAX_BYTES:
        raise _refused('document.too_large', size=f'{len(content) / 1024 / 1024:.1f}', max=MAX_BYTES // (1024 * 1024))
    kind = filetype.guess(content[:8192])
    mime = kind.mime if kind is not None else None
    if mime == PDF and content.startswith(b'%PDF-'):
        return PDF
    if mime in _ZIPPED or content.startswith(b'PK\x03\x04'):
        return _zipped(content)
    if mime is None:
        return _text(content)
    raise _refused('document.type_not_allowed', kind=_described(kind), mime=kind.mime, allowed=ALLOWED_NAMES)


def _described(kind):
    names = {'application/x-msdownload': 'a Windows program', 'application/x-executable': 'a program',
             'application/x-sh': 'a script'}
    return f'{names.get(kind.mime, "a file")} ({kind.mime})'


def _zipped(content):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        if names and names[0] == 'mimetype':
            # ODF: the first entry, stored uncompressed, names the type.
            declared = archive.read('mimetype')[:100].decode('ascii', 'replace').strip()
            if declared in (ODT, ODS):
                return declared
            raise _refused('document.odf_type_not_allowed', declared=declared, allowed=ALLOWED_NAMES)
        if '[Content_Types].xml' in names:
            if _macros(archive, names):
                raise _refused('document.macros_not_allowed', allowed=ALLOWED_NAMES)
            if 'word/document.xml' in names:
                return DOCX
            if 'xl/workbook.xml' in names:
                return XLSX
            raise _refused('document.ooxml_type_not_allowed', allowed=ALLOWED_NAMES)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as err:
        # damaged, cut short, compressed by an unknown method or encrypted: not a document that can be read
        raise _refused('document.zip_unreadable', detail=str(err)) from None
    raise _refused('document.type_not_allowed', kind='a zip archive', mime='application/zip', allowed=ALLOWED_NAMES)


#: the part of an OOXML file that holds its VBA macros (word/vbaProject.bin, xl/vbaProject.bin)
_VBA_PART = 'vbaproject.bin'
#: how much of ``[Content_Types].xml`` is read for a macro-enabled content type
_CONTENT_TYPES_READ = 1024 * 1024


def _macros(archive, names):
    """An OOXML file with macros (a docm or xlsm, whatever its name): a VBA part, or a content type
    ``...macroEnabled...`` (``application/vnd.ms-word.document.macroEnabled.main+xml``)."""
    if any(name.lower().rsplit('/', 1)[-1] == _VBA_PART for name in names):
        return True
    with archive.open('[Content_Types].xml') as types:
        return b'macroenabled' in types.read(_CONTENT_TYPES_READ).lower()


def _text(content):
    try:
        text = content.decode('utf-8')
    except UnicodeDecodeError:
        raise _refused('document.not_utf8', allowed=ALLOWED_NAMES) from None
    if any(ch < ' ' and ch not in '\t\n\r\f' for ch in text):
        raise _refused('document.not_plain_text', allowed=ALLOWED_NAMES)
    return TEXT


def checked_name(name):
    """The file name as the uploader gave it, without folders; shown and used when it is downloaded."""
    base = (name or '').replace('\\', '/').rsplit('/', 1)[-1].strip()
    if not base or base in ('.', '..') or len(base) > MAX_NAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        raise _refused('document.name_invalid', max=MAX_NAME)
    return base


def sha256(content):
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Store:
    """Files by SHA-256 under ``root``: ``root/ab/abcdef...``."""
    root: Path

    def path(self, digest):
        return Path(self.root) / digest[:2] / digest

    def put(self, content):
        digest = sha256(content)
        target = self.path(digest)
        if target.exists():
            # The same bytes: the same file, never written again. (Two uploads of new bytes at the same
            # moment may both reach os.replace; the second then puts identical bytes in place, atomically.)
            return digest
        create_private_dir(target.parent)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix='.incoming-')
        try:
            with os.fdopen(fd, 'wb') as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o400)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def read(self, digest):
        return self.path(digest).read_bytes()


def _fsync_dir(folder):
    """The rename itself survives a crash only once its folder is on disk too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def add(session, now, actor, store, name, content, procedure_id=None, purpose=''):
    """Check and store one file and record it; everything is checked before anything is written."""
    name = checked_name(name)
    media_type = recognise(content)
    purpose = _checked_purpose(purpose)
    if procedure_id is not None:
        _procedure(session, procedure_id)
    digest = store.put(content)
    document = Document(sha256=digest, name=name, media_type=media_type, size=len(content), uploaded_dt=now,
                        uploaded_by=actor.person, uploaded_for=actor.acting_for, procedure_id=procedure_id,
                        purpose=purpose)
    session.add(document)
    session.flush()
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, procedure_id=procedure_id,
                 event='document_added', data=dict(as_dict(document), purpose=purpose, **by_account(actor)))
    return document


MAX_PURPOSE = 80


def _checked_purpose(purpose):
    purpose = (purpose or '').strip()
    if len(purpose) > MAX_PURPOSE:
        raise CommandRefused.one('field.too_long', 'purpose', rules.DOCUMENTS, length=len(purpose), max=MAX_PURPOSE)
    return purpose


def _by_id(session, model, id_):
    return session.get(model, id_) if isinstance(id_, int) and 0 < id_ <= MAX_ID else None


def _procedure(session, procedure_id):
    found = _by_id(session, Procedure, procedure_id)
    if found is None:
        raise NotFound.one('procedure.not_found', 'procedure', id=procedure_id)
    return found


def attach(session, now, actor, document_ids, procedure_id, purpose):
    """Attach uploaded documents to a procedure (a request, a statement, a plan), with an audit entry.

    A document belongs to one procedure: one uploaded for another is refused (upload the file again;
    the same bytes are stored once). Called inside the command that starts or completes.
    """
    purpose = _checked_purpose(purpose)
    _procedure(session, procedure_id)
    documents = []
    for document_id in dict.fromkeys(document_ids):
        document = _by_id(session, Document, document_id)
        if document is None:
            raise NotFound.one('document.not_found', FIELD, id=document_id)
        if document.procedure_id not in (None, procedure_id):
            raise _refused('document.attached_elsewhere', id=document_id, procedure=document.procedure_id)
        if document.procedure_id is None and document.uploaded_for not in (actor.acting_for, roles.ADMIN.name):
            # An id is no key: a document uploaded for another party or role stays theirs to attach (the
            # installation's operator, at the command line, uploads for anyone).
            raise NotFound.one('document.not_found', FIELD, id=document_id)
        document.procedure_id = procedure_id
        document.purpose = purpose or document.purpose
        documents.append(document)
    if documents:
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, procedure_id=procedure_id,
                     event='document_attached', data={'purpose': purpose, 'documents': [
                         {'id': d.id, 'sha256': d.sha256, 'name': d.name} for d in documents], **by_account(actor)})
    session.flush()
    return documents


def as_dict(document):
    return {'id': document.id, 'name': document.name, 'media_type': document.media_type, 'size': document.size,
            'sha256': document.sha256}


def of_procedure(session, procedure_id):
    return [as_dict(d) for d in session.scalars(select(Document).where(Document.procedure_id == procedure_id)
                                                .order_by(Document.id))]


def get(session, document_id):
    document = _by_id(session, Document, document_id)
    if document is None:
        raise NotFound.one('document.not_found', FIELD, id=document_id)
    return document


def may_read(session, document, viewer):
    """Who may download: ``viewer`` is None for the public, else an object with ``acts_for`` and ``role``.

    The public gets a document only when it belongs to a procedure whose outcome is a public bijlage
    (adopted, not confidential); anyone logged in may see every procedure, so every attached document;
    one not yet attached only its uploader's party or role, and auditors.
    """
    procedure = session.get(Procedure, document.procedure_id) if document.procedure_id is not None else None
    if viewer is None:
        if procedure is None:
            return False
        # Gegevenswisseling lid 1: what a Party asked to keep confidential is off every public page and file.
        whole, parties = confidentiality.kept_from_public(session, procedure.id, procedure.request)
        if whole or document.uploaded_for in parties:
            return False
        return session.scalars(select(Appendix.id).where(Appendix.procedure_id == procedure.id)).first() is not None
    if procedure is not None:
        return True
    return viewer.role in roles.AUDITORS or document.uploaded_for in (*viewer.acts_for, viewer.role)


@dataclass(frozen=True)
class FilesVerdict:
    ok: bool
    files: int
    problems: tuple
    message: str


def verify_all(session, store):
    """Rehash every stored document: a file changed or missing since it was recorded is named."""
    problems = []
    documents = session.scalars(select(Document).order_by(Document.id)).all()
    for d in documents:
        path = store.path(d.sha256)
        try:
            actual = sha256(path.read_bytes())
        except FileNotFoundError:
            problems.append(f'document {d.id} ({d.name}) is missing: no file {path}')
            continue
        if actual != d.sha256:
            problems.append(f'document {d.id} ({d.name}) was changed: its file hashes to {actual}, the record '
                            f'holds {d.sha256}')
    if problems:
        message = 'documents: ' + '; '.join(problems)
    else:
        message = f'documents: {len(documents)} file(s), each matches its SHA-256' if documents else \
            'documents: none stored'
    return FilesVerdict(not problems, len(documents), tuple(problems), message)


@dataclass(frozen=True)
class Attachments:
    """Files sent with a start or an answer: new ones as (name, bytes), uploaded ones by id."""
    store: Store | None = None
    files: tuple = ()
    ids: tuple = ()

    def problems(self):
        """What is wrong with the new files, every file's problem at once; each names its file (``file``)."""
        found = []
        for name, content in self.files:
            try:
                checked_name(name)
                recognise(content)
            except CommandRefused as refused:
                found += [replace(p, params=dict(p.params, file=name)) for p in refused.problems]
        return found

    def check(self, purpose):
        """Every new file checked before the command changes anything: a refused one refuses it all.
        ``purpose`` is what the start or the task form takes files for; None: it takes none."""
        if purpose is None and (self.files or self.ids):
            raise _refused('document.not_taken')
        problems = self.problems()
        if problems:
            raise CommandRefused(problems)
        for id_ in self.ids:
            if not isinstance(id_, int) or isinstance(id_, bool):
                raise NotFound.one('document.not_found', 'documents', id=id_)

    def attach(self, ctx, procedure_id, purpose):
        """Store the new files and attach them and the uploaded ones, in the command's transaction."""
        added = [add(ctx.session, ctx.now, ctx.actor, self.store, name, content, procedure_id, purpose).id
                 for name, content in self.files]
        attach(ctx.session, ctx.now, ctx.actor, list(self.ids), procedure_id, purpose)
        return added


NONE = Attachments()
