"""Words for the engine's field names and values, in the page's language."""
from datetime import date

from flask_babel import get_locale, lazy_gettext as _l

from engine import procedures as registry
from engine import texts
from web import formatting


FIELDS = {
    'decision': _l('Uw besluit'), 'statement': _l('Verklaring'), 'note': _l('Toelichting'),
    'choice': _l('Keuze'), 'new_deadline': _l('Nieuwe termijn'), 'reason': _l('Reden'),
    'complete': _l('Is het verzoek volledig en voldoet het aan de criteria?'), 'code': _l('Code van de nieuwe Partij'),
    'effective_date': _l('Ingangsdatum'), 'deal_stands': _l('Blijft de deal voor de overige Partijen in stand?'),
    'initiatives_projects': _l('Monitoring: concrete initiatieven en projecten'),
    'goals_deel1': _l('Monitoring: de doelen van Deel 1'), 'report': _l('Midtermrapportage'),
    'werkplan_concept': _l('Werkplan (concept)'), 'communicatieplan_concept': _l('Communicatieplan (concept)'),
    'begroting_concept': _l('Begroting (concept)'), 'werkplan': _l('Werkplan'),
    'communicatieplan': _l('Communicatieplan'), 'begroting': _l('Begroting'),
    'werkplan_reason': _l('Reden (werkplan)'), 'communicatieplan_reason': _l('Reden (communicatieplan)'),
    'begroting_reason': _l('Reden (begroting)'), 'next_steps': _l('Besluit over de vervolgstappen'),
    'result': _l('Uitkomst van het overleg'), 'new_end_date': _l('Nieuwe einddatum'),
    'title': _l('Titel'), 'text': _l('Tekst van de wijziging'), 'motivation': _l('Motivering'),
    'circumstances': _l('Veranderde omstandigheden'), 'received': _l('Ontvangen op'), 'year': _l('Jaar'), 'party': _l('Partij'),
    'applicant': _l('Organisatie'), 'kind': _l('Soort organisatie'), 'representative': _l('Vertegenwoordiger'),
    'email': _l('E-mailadres'), 'contribution': _l('Concrete bijdrage'),
    'endorses_goals': _l('Wij onderschrijven de doelstellingen'),
    'confidential': _l('Vertrouwelijk (niet op openbare pagina\'s)'), 'understood': _l('Bevestiging'),
    'deputy': _l('E-mailadres van de plaatsvervanger'), 'starts_on': _l('Van'), 'ends_on': _l('Tot en met'),
    'grounds': _l('Gronden voor geheimhouding'), 'lift': _l('Eigen verzoek opheffen'),
    'procedure': _l('Procedure'), 'type': _l('Soort procedure'),
    'task': _l('Taak'), 'as': _l('Namens'), 'by': _l('Partij'), 'deal': _l('De deal'), 'person': _l('Naam'),
    'login': _l('Inloggen'), '(form)': _l('Formulier'),
    'pledge_eur': _l('Financiële toezegging in euro'), 'pledge_per': _l('Per jaar of eenmalig'),
    'statement_of': _l('Verklaring van'), 'document': _l('Document'), 'purpose': _l('Doel'),
    'effective_date_reason': _l('Reden voor een andere ingangsdatum'),
}
VALUES = {
    'consent': _l('Instemming'), 'objection': _l('Bezwaar'), 'extend': _l('Termijn verlengen'),
    'close': _l('Afsluiten: niet aangenomen'), 'adopted': _l('Vastgesteld'), 'not_adopted': _l('Niet vastgesteld'),
    'continue': _l('Voortzetten (wijziging van de einddatum)'), 'end': _l('Niet voortzetten'),
    'true': _l('Ja'), 'false': _l('Nee'), 'True': _l('Ja'), 'False': _l('Nee'), 'running': _l('loopt'),
    'completed': _l('afgerond'), 'cancelled': _l('gesloten'), 'admitted': _l('toegelaten'),
    'refused': _l('geweigerd'), 'withdrawn': _l('teruggetreden'), 'active': _l('actief'),
    'withdrawing': _l('in opzegtermijn'),
    # the kinds of organisation (the deal file's party_kinds), all in lower case as in the deal file
    'rijk': _l('rijk'), 'provincie': _l('provincie'), 'gemeente': _l('gemeente'), 'waterschap': _l('waterschap'),
    'woningcorporatie': _l('woningcorporatie'), 'kennisinstelling': _l('kennisinstelling'),
    'maatschappelijke organisatie': _l('maatschappelijke organisatie'), 'bedrijf': _l('bedrijf'),
    'ended': _l('geëindigd'), 'keep': _l('Geheim houden'), 'lift': _l('Openbaar maken (verplichting)'),
    'kept': _l('geheim gehouden'), 'wait': _l('Afwachten: overleg tot de termijn'), 'lifted': _l('openbaar gemaakt'),
}


EVENTS = {
    'deal_loaded': _l('Deal geladen'), 'procedure_started': _l('Procedure gestart'),
    'request_registered': _l('Verzoek geregistreerd bij projectleider en secretaris'),
    'task_completed': _l('Taak afgerond'), 'procedure_completed': _l('Procedure afgerond'),
    'procedure_cancelled': _l('Procedure gesloten'), 'consultation_extended': _l('Termijn verlengd'),
    'deadline_passed': _l('Termijn verstreken'), 'timer_fired': _l('Termijn bereikt'),
    'appendix_attached': _l('Bijlage gehecht'), 'term_changed': _l('Looptijd gewijzigd'),
    'amendment_not_adopted': _l('Wijziging niet aangenomen'), 'accession_returned': _l('Toetreding geretourneerd'),
    'party_admitted': _l('Partij toegetreden'), 'accession_refused': _l('Toetreding geweigerd'),
    'party_withdrawing': _l('Opzegging ontvangen'), 'notice_acknowledged': _l('Opzegging bevestigd'),
    'party_withdrawn': _l('Partij teruggetreden'), 'consent_request_lapsed': _l('Verzoek om instemming vervallen'),
    'annual_cycle_adopted': _l('Jaarcyclus afgerond'), 'continuation_agreed': _l('Voortzetting overeengekomen'),
    'continuation_declined': _l('Geen voortzetting'), 'deal_ended': _l('Deal geëindigd'),
    'reminder_sent': _l('Herinnering verstuurd'), 'account_added': _l('Account toegevoegd'),
    'account_disabled': _l('Account uitgeschakeld'), 'delegation_granted': _l('Plaatsvervanger aangewezen'),
    'contacts_updated': _l('Adressen bijgewerkt'),
    'confidentiality_requested': _l('Geheimhouding gevraagd'), 'confidentiality_kept': _l('Geheimhouding bevestigd'),
    'confidentiality_lifted': _l('Geheimhouding opgeheven'),
    'confidentiality_withdrawn': _l('Verzoek om geheimhouding ingetrokken'),
    'document_added': _l('Document toegevoegd'), 'document_attached': _l('Document bijgevoegd'),
}
EVENTS.update({
    'delegation_revoked': _l('Plaatsvervanging beëindigd'), 'delegation_expired': _l('Plaatsvervanging afgelopen'),
    'account_closed': _l('Toegang beëindigd met de Partij'), 'api_token_revoked': _l('API-token ingetrokken'),
    'api_token_created': _l('API-token gemaakt'), 'password_reset': _l('Nieuw wachtwoord ingesteld'),
    'second_factor_enabled': _l('Tweede factor aangezet'), 'second_factor_disabled': _l('Tweede factor uitgezet'),
    'recovery_code_used': _l('Herstelcode gebruikt'), 'recovery_codes_renewed': _l('Nieuwe herstelcodes gemaakt'),
    'answer_revised': _l('Besluit herzien'), 'consultation_opened': _l('Overleg geopend'),
    'new_version': _l('Nieuwe versie van de tekst'), 'parties_asked': _l('Nieuwe Partijen om instemming gevraagd'),
    'task_due_changed': _l('Uiterste datum van een taak gewijzigd'),
    'calendar_feed_created': _l('Agenda-adres gemaakt'), 'calendar_feed_revoked': _l('Agenda-adres ingetrokken'),
    'objection_task_lapsed': _l('Taak bezwaar behandelen vervallen'),
    'party_joined': _l('Nieuwe Partij gevraagd in lopende overleggen'),
})


def event_label(code):
    return EVENTS.get(code, code)


def field_label(name):
    return FIELDS.get(name, name)


OUTCOMES = {'adopted': _l('aangenomen'), 'not_adopted': _l('niet aangenomen'), 'continue': _l('voortzetten'),
            'end': _l('niet voortzetten')}


def outcome_label(value):
    return OUTCOMES.get(value) or value_label(value)


def value_label(value):
    if value is None:
        return '–'
    if value in registry.TYPES:
        return type_label(value)
    return VALUES.get(str(value), value)


def language():
    return str(get_locale() or 'nl')


def type_label(type_id):
    """A procedure type's name, from the engine's catalogue (where each type brings its own words)."""
    return texts.text(f'type.{type_id}', language(), {})


def start_label(type_id):
    return texts.text(f'start.{type_id}', language(), {})


def _type_words(code, params):
    """A type's own words from the engine's catalogue, in the page's language, its days as the pages write them."""
    return texts.text(code, language(), {k: formatting.day(v) if isinstance(v, date) else v for k, v in params.items()})


def procedure_title(p):
    """How the pages name a procedure (a read model with its ``type``, ``title`` and, where known, ``request`` and
    ``initiated_by``): its type's title in the page's language, else the title its requester wrote."""
    type_ = registry.TYPES.get(p.get('type'))
    params = type_.title_params(p.get('request') or {}, p.get('initiated_by')) if type_ and type_.title_params \
        else None
    return _type_words(f'title.{type_.id}', params) if params is not None else formatting.dates_in_words(p.get('title'))


def whats_next(p):
    """What happens when a running procedure ends, as its type says it on its page; None: nothing to say."""
    type_ = registry.TYPES.get(p.get('type'))
    params = type_.next_params(p.get('request') or {}) if type_ and type_.next_params else None
    return _type_words(f'next.{type_.id}', params) if params is not None else None


def applicant(p):
    """The organisation that asked, when it is not (yet) a party (a request to join); else None."""
    type_ = registry.TYPES.get(p.get('type'))
    return type_.applicant(p.get('request') or {}) if type_ and type_.applicant else None


def types_about_a_procedure(p):
    """The types started from the page of procedure ``p`` (a request for confidentiality of its texts); none
    from the page of a procedure that is itself about another."""
    type_ = registry.TYPES.get(p.get('type'))
    if type_ is None or type_.about_procedure:
        return ()
    return tuple(t.id for t in registry.all_types() if t.about_procedure)


#: what a document is for (engine: a start's ``request``, a task form's ``document_purpose``)
PURPOSES = {'request': _l('bij het verzoek'), 'statement': _l('bij een verklaring'), 'evaluation': _l('evaluatie'),
            'midterm_report': _l('midtermrapportage'), 'document': _l('document'),
            'werkplan, communicatieplan, begroting': _l('werkplan, communicatieplan en begroting')}


def purpose_label(purpose):
    return PURPOSES.get(purpose, purpose) if purpose else '–'


#: The pages' own words for the engine's generic refusals (WRITING.md: what is wrong and how to put it
#: right, at the field). The engine's texts serve the command line and the API, which name no form.
#: A choice among options is chosen, anything else filled in.
CHOSEN = {'decision', 'choice', 'complete', 'deal_stands', 'result', 'werkplan', 'communicatieplan', 'begroting',
          'kind', 'pledge_per', 'by', 'endorses_goals', 'understood', 'confidential', 'lift'}
REQUIRED = {
    'title': _l('Vul een titel in.'), 'text': _l('Vul de tekst van de wijziging in.'),
    'circumstances': _l('Vul de veranderde omstandigheden in. Een opzegging moet die vermelden.'),
    'applicant': _l('Vul de naam van de organisatie in.'), 'kind': _l('Kies de soort organisatie.'),
    'representative': _l('Vul de naam in van wie de organisatie vertegenwoordigt.'),
    'email': _l('Vul een e-mailadres in. Daarheen sturen wij de link om het verzoek te bevestigen.'),
    'contribution': _l('Vul de concrete bijdrage in: mensen en middelen.'),
    'deputy': _l('Vul het e-mailadres van de plaatsvervanger in.'),
    'starts_on': _l('Vul de eerste dag van de plaatsvervanging in.'),
    'ends_on': _l('Vul de laatste dag van de plaatsvervanging in.'),
    'received': _l('Vul de dag in waarop het schriftelijke stuk binnenkwam.'),
    'year': _l('Vul het jaar in, bijvoorbeeld 2021.'), 'decision': _l('Kies instemming of bezwaar.'),
    'grounds': _l('Vul de gronden voor geheimhouding in.'), 'procedure': _l('Vul het nummer van de procedure in.'),
}
WEB_TEXTS = {
    'field.not_a_date': _l('Dit is geen datum. Kies een dag, bijvoorbeeld 1 juni 2021.'),
    'field.not_a_number': _l('Dit is geen getal. Vul alleen cijfers in, zonder punt, komma of euroteken, '
                             'bijvoorbeeld 10000.'),
    'field.not_an_email': _l('Dit is geen e-mailadres. Vul een adres in zoals naam@organisatie.nl.'),
    'field.invalid': _l('Deze waarde klopt niet. Kies of vul een van de gevraagde waarden in.'),
    'field.not_yes_no': _l('Kies ja of nee.'),
    'toetreding.pledge_incomplete': _l('Vul bij een financiële toezegging zowel het bedrag in als "per jaar" of '
                                       '"eenmalig". Laat beide leeg als u in natura bijdraagt.'),
    'toetreding.goals_not_endorsed': _l('Vink aan dat uw organisatie de doelstellingen van de deal '
                                        'onderschrijft. Zonder dat kan een organisatie niet toetreden.'),
    'received.required_for_registration': _l('Vul de dag in waarop het schriftelijke stuk binnenkwam. Wie een stuk '
                                             'van een Partij registreert, geeft die dag altijd.'),
}


#: the types a document may be, as the pages name them (the engine's words for them are English)
DOCUMENT_TYPES = _l('PDF, ODF (odt, ods), OOXML (docx, xlsx) of platte tekst (UTF-8)')
#: what a refused file is, by the media type the engine found in it
FILE_KINDS = {'application/x-msdownload': _l('een Windows-programma'), 'application/x-executable': _l('een programma'),
              'application/x-sh': _l('een script'), 'application/zip': _l('een zip-archief')}
OTHER_FILE = _l('een ander soort bestand')


def _document_text(problem):
    """A refused file in the page's words, after the name of the file (a form sends several)."""
    params = dict(problem.params)
    if 'allowed' in params:
        params['allowed'] = str(DOCUMENT_TYPES)
    if params.get('mime'):
        params['kind'] = f"{FILE_KINDS.get(params['mime'], OTHER_FILE)}, {params['mime']}"
    if 'size' in params and language() == 'nl':
        params['size'] = str(params['size']).replace('.', ',')  # 20,5 MB
    words = texts.text(problem.code, language(), params)
    return f"{params['file']}: {words}" if params.get('file') else words


def problem_text(problem):
    if problem.field == 'document' and problem.code.startswith('document.'):
        return _document_text(problem)
    if problem.code == 'field.required':
        if problem.field in REQUIRED:
            return str(REQUIRED[problem.field])
        return str(_l('Maak een keuze; dit is verplicht.') if problem.field in CHOSEN
                   else _l('Vul dit veld in; het is verplicht.'))
    if problem.code in WEB_TEXTS:
        return str(WEB_TEXTS[problem.code])
    if problem.code == 'field.not_a_choice' and isinstance(problem.params.get('choices'), (tuple, list)):
        return str(_l('Kies een van de mogelijkheden: %(choices)s.')) % {
            'choices': ', '.join(str(value_label(c)) for c in problem.params['choices'])}
    return problem.message(language())


def by_field(refused):
    """{field: [message]} in the page's language, from a CommandRefused."""
    errors = {}
    for problem in refused.problems:
        errors.setdefault(problem.field, []).append(problem_text(problem))
    return errors
