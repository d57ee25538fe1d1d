"""Files sent with a web form: the field ``document`` of a start, a confirmed task and a revised answer.

Whether a form takes files the engine says (``ProcedureType.document_purpose``, ``TaskForm.document_purpose``);
what a file may be it decides too (engine.documents: the content, never the name; at most 20 MB each).
The files go with the command itself (``files=``), checked before it changes anything and stored in its
transaction: a refused form stores no file and no row.

The task's confirmation step (``/taken/<id>`` → confirm page → ``/taken/<id>/bevestigen``) takes the files on
the confirm page, whose POST is the command: a browser cannot carry a chosen file from one page to the next,
and a file stored before the person confirms would be in the record for an answer never given.

Every other form keeps Flask's small limit (``MAX_CONTENT_LENGTH``, 256 kB); these routes allow a few files
of 20 MB each. The limit is set before the CSRF check reads the form, so a larger body is a 413, unread.
"""
from flask import request

from engine import documents

#: the pages whose forms send files
ENDPOINTS = frozenset({'views.start', 'views.confirm', 'views.revise'})
#: files of 20 MB that one form may send together (the body's limit; the engine checks each file)
MOST_FILES = 5
#: room for the form's own fields and the multipart framing
FORM_ROOM = 1024 * 1024
BODY_LIMIT = MOST_FILES * documents.MAX_BYTES + FORM_ROOM
MAX_MB = documents.MAX_BYTES // (1024 * 1024)
#: what the file chooser offers; the engine decides by the content, whatever the chooser let through
ACCEPT = ','.join(('.pdf', '.odt', '.ods', '.docx', '.xlsx', '.txt', documents.PDF, documents.ODT, documents.ODS,
                   documents.DOCX, documents.XLSX, 'text/plain'))


def files():
    """The files chosen in the field ``document`` as [(name, bytes)]; a field left empty sends none (an empty
    part without a name), a chosen empty file is sent, and refused by the engine."""
    chosen = []
    for upload in request.files.getlist(documents.FIELD):
        if not upload.filename:
            continue
        # read whole (the body's limit bounds it), so that a refusal says how large the file is
        chosen.append((upload.filename, upload.stream.read()))
    return chosen


def files_too_large():
    """A 413 for the files of a page that takes them (its page names the limit of a file), not for a text
    typed beside them that is longer than any form's."""
    length = request.content_length
    return request.endpoint in ENDPOINTS and (length is None or length > BODY_LIMIT)


def init_app(app):
    """Register before CSRFProtect: its check reads the form, and the form is read with the limit set here."""
    @app.before_request
    def _upload_limit():
        if request.endpoint in ENDPOINTS and request.method == 'POST' and request.mimetype == 'multipart/form-data':
            # the files may be large; the typed fields beside them keep the limit of every other form
            request.max_form_memory_size = app.config['MAX_CONTENT_LENGTH']
            request.max_content_length = BODY_LIMIT

    app.jinja_env.globals.update(document_accept=ACCEPT, document_max_mb=MAX_MB, document_most_files=MOST_FILES)
