"""The rules of the deal (RULES.md, from the deal text) that the engine enforces, by name.

A test covers a rule by ``@pytest.mark.rule(NAME)``; ``test_rules_traced`` fails when a rule
here has no test. README.md maps each rule to its BPMN element or deal constant.
"""
RULES = (
    'Deal: 17 founding Partijen',
    'Deal: term',
    'Deal: contributions',
    'Wijziging 1: consent of all Partijen',
    'Wijziging 2: consultation within 6 weeks of reaching projectleider and secretaris',
    'Wijziging 2: answers after the deadline are refused',
    'Wijziging 2: projectleider extends or closes at the deadline',
    'Wijziging 3: amendment and consent statements become a bijlage',
    'Toetreding 1: with the consent of all Partijen',
    'Toetreding 2: the request must state the concrete contribution',
    'Toetreding 3: criteria',
    'Toetreding 4: status of Partij',
    'Toetreding 5: request and statements as appendices',
    'Opzegging 1: 3 months notice',
    'Opzegging 2: the notice must state the changed circumstances',
    'Opzegging 3: the deal stays in force for the others',
    'Opzegging 4: contribution for the year of notice stays due',
    'Jaarcyclus: projectleider evaluates every year with Agenda Stad, on two levels',
    'Jaarcyclus: midterm report halfway through the term',
    'Jaarcyclus: coalitieoverleg adopts werkplan, communicatieplan and begroting',
    'Jaarcyclus: stuurgroep decides on next steps',
    'Continuation: consultation at the latest 2 months before the end date',
    'Continuation: extending the term is an amendment',
    'Continuation: without continuation the deal ends',
    'Auditors: full, tamper-evident history',
    'One command = one transaction',
    'Received: every period counts from the day the written request or notice was received',
    'Received: projectleider and secretaris register a paper document for a party, with its received date',
    'Wijziging 2: the consultation opens within 6 weeks; a late opening is recorded as late',
    'Wijziging 2: the answer window starts when the consultation opens and lasts consent_period_weeks',
    'Wijziging 2: no answer window shorter than minimum_consent_days',
    'Consent round: consent of every Party at the moment the round closes',
)
