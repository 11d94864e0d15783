"""1. Possible pulmonary embolism — critical (NICE NG158 §1.2; REMEDY/CKS; clinical-knowledge.md §1.6).

Criterion: a PE feature together with a VTE context — leg DVT features, a current DVT or suspected PE,
recent knee or leg pain (weakly), major surgery within 12 weeks, immobilisation, active cancer, previous
VTE, pregnancy or up to 6 weeks postpartum (the PE Wells and PERC items the record can show) — where the
PE feature is dyspnoea, pleuritic chest pain, haemoptysis, syncope, hypoxaemia (SpO2 < 95 %; beside COPD
and the like below the BTS floor of 88 %) or tachypnoea (RR > 20) recorded recently (a symptom recorded as
resolved counts when its episode lies inside the window: record.recent_episodes); thresholds are the
catalogue's. The heart rate alone is a PE feature only beside leg DVT features or a current or suspected
clot (HR > 100 or coded; KB §1.6, §2.4), or a confirmed PE (HR > 130); beside surgery, immobilisation,
cancer, previous VTE, pregnancy, knee or leg pain, and in children, it is not (r34a F2, F9). Knee or leg
pain as the only context needs an alarming feature, or a sign with a PE symptom or a second sign (r34b S8).
A breathlessness code a coded diagnosis explains, beside a risk with no leg finding and no admission
criterion, is a warning naming the alternative (r34a F3). A confirmed current PE is a context too, but
breathlessness or chest pain beside it counts only when recorded after the PE began and with a pulse over
100; under full-strength anticoagulation only deterioration recorded after it began counts, on its own
variants (r34a F4). Children: never the heart rate alone; the respiratory rate at NG51's high-risk value
for the age (RR ≥ 25 from 12), SpO₂ below 92 % under 12 and below 95 % from 12 (r34b S9).
Pregnant or up to 6 weeks postpartum: RCOG 37b wording, immediate admission. A negative CTPA or
a refuted PE closes the features recorded before it (signals.still_open); immediate-admission physiology
(an oxygen need among it) or a new kind of feature after it re-opens the card as 'ctpa-negative-reopened':
it names the negative CTPA and its date, what is new, and what it answered, and asks for reassessment and
admission, not the same CTPA again (NG158; REMEDY/CKS, KB §1.6). A CTPA not read as negative is a
PE: untreated, its own critical variant; under full-strength anticoagulation, a known PE under treatment.
"""
from __future__ import annotations

from ...content.catalogue import phrase, threshold, topic, value_set, window
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding, Say
from .septic_arthritis import septic_knee

SUSPECTED_PE, KNOWN_PE = topic("suspected-pe"), topic("known-pe")
NEW_SYMPTOM = window("dvt-new-features")  # how long after a clot began a finding counts as new
TREATMENT_PHASE, FINDING, EPISODE = window("treatment-phase"), window("finding"), window("negative-test-episode")
SYSTOLIC, ADMISSION_SYSTOLIC = signals.SYSTOLIC, signals.ADMISSION_SYSTOLIC
_PE = "suspected-pe"
# REMEDY/CKS immediate-admission criteria the record can show (altered consciousness cannot be read): the
# vital signs' thresholds (signals.ADMISSION_LEVEL), the systolic pressure among them.
ADMISSION_CRITERIA = tuple(
    (measured, signals.above if high else signals.below, limit,
     phrase(_PE, "admit.systolic-pressure" if measured == SYSTOLIC else f"admit.{measured}"))
    for measured, limit, high in signals.ADMISSION_LEVEL)
LOW_TEMPERATURE, ADMIT_TEMPERATURE = threshold("admission-temperature"), phrase(_PE, "admit.temperature")
ADMIT_PREGNANT, ADMIT_CHILD = phrase(_PE, "admit.pregnant"), phrase(_PE, "admit.child")
REOPEN_NEW_FEATURE = phrase(_PE, "reopen.new-feature")
UNKNOWN_SYSTOLIC, UNKNOWN_CONSCIOUSNESS = phrase(_PE, "unknown.systolic-pressure"), phrase(_PE, "unknown.consciousness")
NOTE_ANTICOAGULANT, NOTE_KNOWN_PE_UNTREATED = phrase(_PE, "note.anticoagulant"), phrase(_PE, "note.known-pe-untreated")
NOTE_INFECTION = phrase(_PE, "note.infection")
# The PE features a fever or a septic joint explains as well as a clot (§5.10: a fast pulse and breathing)
EXPLAINED_BY_INFECTION = frozenset({signals.HEART_RATE, signals.TACHYCARDIA_CODED, signals.RESPIRATORY_RATE,
                                    value_set("tachypnoea")})
ALARMING_ALONE = frozenset({signals.PE, *(value_set(key) for key in ("haemoptysis", "syncope", "hypoxaemia"))})
OBJECTIVE = (frozenset({signals.OXYGEN_SATURATION}), frozenset({signals.RESPIRATORY_RATE, value_set("tachypnoea")}),
             frozenset({signals.HEART_RATE, signals.TACHYCARDIA_CODED}))
CHEST_PAIN, DYSPNOEA = frozenset({value_set("pleuritic-chest-pain")}), value_set("dyspnoea")
OTHER_FEATURES = frozenset(signals.PE_FEATURES) - {DYSPNOEA} | {signals.PE}
# Coded alternatives that explain a breathlessness code (PE Wells' 'PE the likeliest diagnosis', NG158)
ACUTE_BREATHLESSNESS_CAUSE = value_set("acute-breathlessness-cause")  # asthma exacerbation, pneumonia
ALTERNATIVE_CHRONIC_LUNG, ALTERNATIVE_HEART_FAILURE, ALTERNATIVE_ACUTE = (
    phrase(_PE, f"alternative.{key}") for key in ("chronic-lung", "heart-failure", "acute"))
CHRONIC_HYPOXAEMIA, SATURATION_FLOOR = value_set("chronic-hypoxaemia"), threshold("chronic-hypoxaemia-saturation-floor")
LOW_SATURATION = frozenset({signals.OXYGEN_SATURATION, value_set("hypoxaemia")})
# What makes PE features more than breathlessness: a leg or VTE context (NG158 PE Wells items; PERC).
CONTEXTS = (
    (signals.leg_dvt_features_as_context, phrase(_PE, "context.dvt-features")),
    (signals.known_vte, phrase(_PE, "context.known-clot")),
    (signals.active_pe, phrase(_PE, "context.known-pe")),
    (signals.leg_pain_as_context, phrase(_PE, "context.leg-pain")),
    (signals.knee_pain_as_context, phrase(_PE, "context.knee-pain")),
    (signals.recent_surgery, phrase(_PE, "context.surgery")),
    (signals.immobilised, phrase(_PE, "context.immobilisation")),
    (signals.cancer_on_record, phrase(_PE, "context.cancer")),  # a risk factor however old (r38a F4)
    (signals.previous_vte, phrase(_PE, "context.previous-vte")),
    (signals.pregnant_or_postpartum, phrase(_PE, "context.pregnancy")),  # the strongest transient risk (§1.8)
)
# Leg DVT features or a clot: the PE presentation of KB §2.4, which no chronic baseline explains away
CLOT_OR_DVT_SIGNS = frozenset({signals.leg_dvt_features_as_context, signals.known_vte, signals.active_pe})
# A leg finding or a clot: beside these a breathlessness code is never 'explained' by another diagnosis
LEG_OR_CLOT = CLOT_OR_DVT_SIGNS | {signals.leg_pain_as_context}


def possible_pe(record: PatientRecord) -> Finding | None:
    unread = ctpa_not_negative(record)
    if unread and not signals.on_anticoagulant(record):
        # A CTPA that is not read as negative (a clot named, or a hedged, limited or preliminary report) with
        # no anticoagulant on record: the report decides now (NG158 1.2: a PE on CTPA is treated at once).
        # A report the reader could not place, none showing a clot: read it now, but no alarm that it shows
        # a PE (r17 review: normal CTPAs in unlisted words were critical "PE shown").
        if all(f.unread for f in unread):
            finding = Finding(SUSPECTED_PE, "warning", variant="ctpa-unread")
        elif any(f.shown and f.current for f in unread):
            # A final CTPA that shows a PE in plain words: a PE to treat now, not a report to read (r28 W2)
            pregnancy = signals.pregnant_or_postpartum(record)
            if pregnancy:
                # RCOG 37b: a PE in pregnancy or within 6 weeks of it is admitted and treated with LMWH — said
                # as the decision, not as one 'admit if' among others (r36b W)
                finding = Finding(SUSPECTED_PE, "critical", variant="ctpa-shown-pregnancy")
                finding.add(pregnancy)
            else:
                # under 18 the adult admission criteria and NG158 do not apply (§8.1): paediatric teams decide
                # (r40 S3: a 14-year-old was given the adult 'admit if' thresholds)
                finding = Finding(SUSPECTED_PE, "critical",
                                  variant="ctpa-shown-child" if signals.child(record) else "ctpa-shown")
                if signals.child(record):
                    high_risk = _child_high_risk(record, clot_shown=True)
                    finding.add(high_risk)  # listed, and said in the summary (r42 W7: SBP 85 at 15 unsaid)
                    if high_risk:
                        finding.variant = "ctpa-shown-child-admit"
                elif admit := _admission_reasons(record, finding):
                    # shock or hypoxia met: the summary says admit, not 'admit if' in step 2 (r41 S2)
                    finding.variant = "ctpa-shown-admit"
                    finding.values["admission_reasons"] = admit
                choice, facts = signals.anticoagulant_choice(record)
                finding.add(facts)
                finding.values["anticoagulant_choice"] = choice
        else:
            finding = Finding(SUSPECTED_PE, "critical", variant="ctpa-not-negative")
        finding.add(unread + signals.all_leg_dvt_features(record) + signals.pe_symptoms(record))
        return finding
    found = [(signal, facts, words) for signal, facts, words in
             ((signal, signal(record), words) for signal, words in CONTEXTS) if facts]
    if not found:
        return None
    contexts = {s for s, _, _ in found}
    symptoms = signals.pe_symptoms(record)
    if record.current(CHRONIC_HYPOXAEMIA) and not contexts & CLOT_OR_DVT_SIGNS:
        # COPD, fibrosis, home oxygen: a saturation in the BTS target range (88-92 %) is their baseline, no
        # PE feature beside a risk or a pain (r31 F1 beside knee pain; r34a F3: beside an old DVT or a cancer
        # too, COPD at SpO₂ 92 % got the critical card at every opening). Below the floor it still counts, and
        # beside leg DVT features or a clot any SpO₂ < 95 % does (KB §2.4; r32 F1: not 'admit' for it).
        floor = record.threshold(SATURATION_FLOOR)
        symptoms = [f for f in symptoms if not (f.value_sets & LOW_SATURATION and not (
            f.quantity and signals.OXYGEN_SATURATION in f.value_sets and f.quantity[0] < floor))]
    known = signals.pe_under_treatment(record)  # coded, or on a CTPA not yet coded
    if known:
        return _treated_pe_worse(record, known, symptoms)
    if contexts == {signals.active_pe}:
        # A known PE explains breathlessness and chest pain for weeks. Objective physiology, syncope or
        # haemoptysis on top of it is a new event (recurrence, treatment failure: §1.6, §8.2); so is
        # breathlessness or chest pain recorded after the PE began together with a pulse over 100.
        clots = found[0][1]  # the active_pe facts, the only context
        objective = symptoms_beyond_residual(symptoms)
        new = [f for f in symptoms if f not in objective and _recorded_after(record, f, clots)]
        fast = signals.tachycardia(record) if new else []
        symptoms = objective or (new + fast if fast else [])
    if contexts <= {signals.knee_pain_as_context, signals.leg_pain_as_context} and signals.adult_physiology(record):
        # Knee or leg pain alone is no VTE risk factor, and one rule reads both (r34b S8: knee pain with
        # breathlessness and HR 145 gave nothing, leg pain with a breathlessness code alone the critical card).
        # KB §1.6, §2.4 speak of a leg-DVT presentation; PE Wells' "signs of DVT" are swelling and tenderness.
        # What is alarming in itself counts — a suspected PE, haemoptysis, syncope, coded hypoxaemia,
        # respiratory rate or SpO₂ at the immediate-admission level — or two PE features of different kinds
        # among breathlessness, pleuritic chest pain, SpO₂ < 95 %, RR > 20 and HR > 100 (breathlessness with
        # HR > 100 is PE Wells 4.5 when PE is the likeliest diagnosis, NG158: PE likely); past 130/min the
        # admission criteria make it the 'admit' card. One feature alone (SpO₂ 94 %, RR 22 are PERC's
        # limits; a breathlessness code), or breathlessness that a coded cause explains (COPD, heart failure,
        # asthma, pneumonia: r32 F3), is no PE alarm there; nor the heart rate alone (pain, §5.10).
        # A fever or a septic knee explains a fast pulse and breathing (§5.10; r32 F2: a septic knee's
        # physiology gave a second critical card, a PE one, above the septic card): the coded red flags remain
        infected = bool(signals.fever(record)) or septic_knee(record)
        physiology = [] if infected else [
            f for f in signals.at_admission_level(record, (signals.RESPIRATORY_RATE, signals.OXYGEN_SATURATION))
            if f in symptoms or signals.OXYGEN_SATURATION not in f.value_sets]
        alarming = [f for f in symptoms if f.value_sets & ALARMING_ALONE and not (infected and f.quantity)] + physiology
        fast = signals.tachycardia(record)
        objective = {group for f in symptoms + fast for group in OBJECTIVE if f.value_sets & group}
        chest_pain = any(f.value_sets & CHEST_PAIN for f in symptoms)
        breathless = any(DYSPNOEA in f.value_sets for f in symptoms) and not breathlessness_causes(record)
        together = len(objective) + chest_pain + breathless >= 2 and not infected
        symptoms = alarming or (symptoms + fast if together else [])
    symptoms = symptoms or _heart_rate_as_pe_feature(record, contexts)
    # A negative CTPA (or a refuted PE) closes what was recorded before it (KB §8.7; NG158: then a leg-vein
    # scan if DVT is suspected, which the DVT card asks for).
    # The vital signs re-open it at the immediate-admission level even when the features the test answered
    # were symptoms (r26 review: HR 140 or SBP 85 the day after a negative CTPA read as 'leg scan in 4 h').
    raised = symptoms + _heart_rate_as_pe_feature(record, contexts)
    symptoms = (signals.still_open(record, symptoms, signals.PE_IMAGING, signals.PE)
                or signals.still_open(record, _heart_rate_as_pe_feature(record, contexts), signals.PE_IMAGING,
                                      signals.PE))
    if not symptoms:
        return None
    answered = [f for f in raised if f not in symptoms]
    ctpas = [t for t in signals.closing_tests(record, answered, signals.PE_IMAGING, signals.PE) if t.kind != "Condition"]
    finding = Finding(SUSPECTED_PE, "critical")
    finding.add(symptoms)
    finding.add(signals.very_fast_heart_rate(record) + signals.tachycardia(record))
    for _, facts, _ in found:
        finding.add(facts)
    finding.values["pe_context"] = [Say(words) for _, _, words in found]
    pregnant = signals.pregnant_or_postpartum(record)
    if signals.child(record) and not pregnant:  # a pregnant teenager takes the RCOG pathway (immediate admission)
        # Adult PE rules and admission thresholds are not validated under 18 (§8.1): same-day paediatric
        # emergency assessment, never a CTPA ordered from adult thresholds.
        finding.variant = "child"
        # NG51's high-risk signs for the age (under 12: its rates for the age and the paediatric SpO₂; from
        # 12: HR > 130, RR ≥ 25, SBP ≤ 90), the adult admission levels from 12, or a temperature below 35 °C.
        high_risk = _child_high_risk(record, clot_shown=signals.active_pe in contexts)
        if high_risk:
            finding.add(high_risk)
            finding.variant = "child-admit"
            finding.values["admission_reasons"] = [Say(ADMIT_CHILD)]
        if (signals.active_pe in contexts and not signals.on_anticoagulant(record)
                and not signals.anticoagulation_unknown(record)):
            # a confirmed PE with nothing given is treated now, in a child too (ASH/ISTH 2024 rec. 1; r41 S6,
            # r42 W6: the suspected-PE child card's 'imaging is a paediatric decision' led for a known PE)
            finding.variant = "child-known-untreated-admit" if high_risk else "child-known-untreated"
            choice, facts = signals.anticoagulant_choice(record)
            finding.add(facts)
            finding.values["anticoagulant_choice"] = choice
        return finding
    admit = _admission_reasons(record, finding)
    coldest = signals.too_cold(record)
    if coldest:
        admit.append(Say(ADMIT_TEMPERATURE, threshold=record.threshold(LOW_TEMPERATURE)))
        finding.add(coldest)
    causes = breathlessness_causes(record)
    if (causes and not admit and not ctpas and _only_breathlessness(symptoms)
            and not contexts & LEG_OR_CLOT):
        # A breathlessness code that a coded diagnosis explains (an asthma exacerbation, pneumonia, heart
        # failure, COPD), beside a risk (an old DVT, a cancer, pregnancy) with no leg finding: PE Wells' 3-point
        # item 'PE the likeliest diagnosis' is not met on the record (NG158), so the card names the
        # alternative and asks whether PE is likelier, not 'emergency assessment now' (r34a F3). Admission-level
        # physiology, syncope, haemoptysis or any other PE feature keeps the critical card.
        finding.indicator, finding.variant = "warning", "explained"
        for facts, _ in causes:
            finding.add(facts)
        finding.values["alternatives"] = [Say(words) for _, words in causes]
        finding.unknown = [Say(UNKNOWN_CONSCIOUSNESS)]
        return finding
    if pregnant:
        admit.append(Say(ADMIT_PREGNANT))
        finding.add(pregnant)
    if admit:
        finding.variant = "pregnancy" if pregnant else "admit"
        finding.values["admission_reasons"] = admit
    if (signals.active_pe in contexts and not signals.on_anticoagulant(record)
            and not signals.anticoagulation_unknown(record) and not ctpas):
        # A confirmed PE with nothing given: treat it now, not the diagnostic pathway (NG158; RCOG 37b in
        # pregnancy; r39 W1: 'V/Q or CTPA, LMWH until PE is excluded' led for a confirmed, untreated PE)
        # with an admission criterion met, the summary says admit (r40 W10: 'admit if SpO₂ < 91 %' beside 89 %)
        finding.variant = "known-untreated-pregnancy" if pregnant else "known-untreated-admit" if admit \
            else "known-untreated"
        # the drug that fits, at the moment someone prescribes (r42 S2: APS and renal failure were dropped here)
        choice, facts = signals.anticoagulant_choice(record)
        finding.add(facts)
        finding.values["anticoagulant_choice"] = choice
        finding.values.setdefault("admission_reasons", admit)
    if ctpas and not pregnant:
        # What re-opened it is named, and what the CTPA already answered is kept in view: a clinician who sees
        # only "HR 140" and "order a CTPA" repeats the test instead of looking for what else is wrong (r27 W2).
        finding.variant = "ctpa-negative-reopened"
        finding.values["ctpa_date"] = ctpas[0].when.date().isoformat()
        finding.values["reopen_reasons"] = admit or [Say(REOPEN_NEW_FEATURE,
                                                          days=record.catalogue.window(EPISODE).days)]
        finding.add(ctpas[:1] + answered)
    finding.unknown = [Say(UNKNOWN_CONSCIOUSNESS)]
    if record.latest(SYSTOLIC) is None:
        finding.unknown.insert(0, Say(UNKNOWN_SYSTOLIC, threshold=record.threshold(ADMISSION_SYSTOLIC)))
    if (symptoms and all(f.value_sets <= EXPLAINED_BY_INFECTION for f in symptoms)
            and (signals.fever(record) or septic_knee(record))):
        # Beside a strong VTE context (cancer, surgery) the card stays, but when the only PE features are a
        # fast pulse and breathing and a fever or hot joint explains them too, the sepsis pathway must not wait
        # behind a CTPA: this card follows the other critical cards and says why (r33 F3)
        finding.notes.append(Say(NOTE_INFECTION))
        finding.follows = True
    if signals.on_anticoagulant(record):
        finding.notes.append(Say(NOTE_ANTICOAGULANT))
    elif signals.active_pe in contexts and not finding.variant.startswith("known-untreated"):
        finding.notes.append(Say(NOTE_KNOWN_PE_UNTREATED))  # a confirmed PE: no D-dimer, treat
    return finding


def ctpa_not_negative(record: PatientRecord) -> list:
    """CTPAs in the findings window whose result is not read as negative (KB §8.7: only a report that is
    negative as a whole closes anything)."""
    return [f for f in record.studies(signals.PE_IMAGING, FINDING) if not (f.negative and f.current)]


def symptoms_beyond_residual(symptoms) -> list:
    """The PE features that are more than a breathlessness or chest-pain code."""
    return [f for f in symptoms if not f.value_sets & signals.RESIDUAL_PE_SYMPTOMS]


STRONG_RISKS = frozenset({signals.recent_surgery, signals.immobilised, signals.cancer_on_record, signals.previous_vte,
                          signals.pregnant_or_postpartum})
ATRIAL_FIBRILLATION, CELLULITIS = value_set("atrial-fibrillation"), value_set("cellulitis-leg")


def _heart_rate_as_pe_feature(record: PatientRecord, contexts: set) -> list:
    """Without a respiratory feature, a fast pulse is a PE feature only beside leg DVT features or a current
    or suspected clot (KB §1.6, §2.4: tachycardia with leg DVT features; PE Wells: DVT signs 3 + HR > 100
    1.5 is already "PE likely"), over 100/min or coded, as is a systolic pressure below 90 there (shock);
    beside a confirmed PE under way, over 130/min or a systolic pressure below 90. Beside surgery, immobilisation, cancer, previous VTE,
    pregnancy, knee or leg pain it is not (r34a F2: post-operative pain, anaemia, fever or AF are reasons for
    a fast pulse, and PE Wells is 3 there, PE unlikely) — except at the immediate-admission level beside knee
    or leg pain (r35b S1); nor in a child, whose DVT card names it (r34a F9), except shock from 12 beside a
    leg finding or a clot (r35b S2)."""
    if signals.child(record):
        if signals.active_pe in contexts:
            # a confirmed PE: shock or a pulse at NG51's high-risk level for the age is no crying toddler's
            # (r42 S1: a 10-year-old with a known PE and SBP 70 got 'confirm treatment today')
            return _child_high_risk(record, clot_shown=True)
        if contexts & {signals.leg_dvt_features_as_context, signals.known_vte} and signals.adult_physiology(record):
            # 12-17 in shock beside a swollen leg or a clot (NG51's 12-and-over HR > 130, SBP <= 90): the
            # emergency a crying toddler's pulse is not (r35b S2: a warning that never named the low pressure)
            return signals.very_fast_heart_rate(record) + signals.below(record, SYSTOLIC, ADMISSION_SYSTOLIC)
        return []
    if contexts & {signals.leg_dvt_features_as_context, signals.known_vte}:
        # Shock beside a clot or DVT signs is high-risk PE until proven otherwise (§1.6: SBP < 90 admits).
        shock = signals.very_fast_heart_rate(record) + signals.below(record, SYSTOLIC, ADMISSION_SYSTOLIC)
        if signals.known_vte not in contexts and not contexts & STRONG_RISKS and (
                record.current(ATRIAL_FIBRILLATION) or record.current(CELLULITIS) or signals.fever(record)
                or signals.coded_sepsis(record)):
            # A swollen leg with a cellulitis or a fever, or in atrial fibrillation, explains a pulse of 100-130
            # (§5.10): no emergency PE card on it, the DVT card stays (r35a F3: cellulitis and HR 105 gave a
            # critical card with a CTPA order); at the admission level it still counts, and beside surgery,
            # immobilisation, cancer, previous VTE or pregnancy it still counts (r35b 279: day 1 after a knee
            # replacement, a swollen calf, 38.4 °C and HR 120 is PE Wells 6 whatever the fever)
            return shock
        return shock + signals.tachycardia(record)
    if signals.active_pe in contexts:
        # shock beside a confirmed PE is a massive PE until shown otherwise (§1.6: SBP < 90 admits; r41 S1: SBP
        # 85 beside an untreated PE gave a 'confirm treatment today' warning)
        return signals.very_fast_heart_rate(record) + signals.below(record, SYSTOLIC, ADMISSION_SYSTOLIC)
    if contexts & STRONG_RISKS and contexts & {signals.knee_pain_as_context, signals.leg_pain_as_context}:
        # Knee or leg pain beside surgery, immobilisation, cancer, previous VTE or pregnancy with the pulse or
        # pressure at the immediate-admission level (REMEDY/CKS HR > 130, SBP < 90): no moderate post-operative
        # pulse, but shock (r35b S1: HR 142 three weeks after a hip replacement gave no card). A coded atrial
        # fibrillation or a fever or sepsis explains the pulse, not a low pressure.
        explained = bool(record.current(ATRIAL_FIBRILLATION) or signals.fever(record) or signals.coded_sepsis(record))
        return (([] if explained else signals.very_fast_heart_rate(record))
                + signals.below(record, SYSTOLIC, ADMISSION_SYSTOLIC))
    return []


def breathlessness_causes(record: PatientRecord) -> list:
    """Coded diagnoses that explain a breathlessness code, with the card's words for each: a chronic lung
    disease with a low baseline saturation (BTS 2017 Table 3), heart failure or fluid overload (KB §8.8's
    systemic-oedema causes), and, recorded recently, an asthma exacerbation or pneumonia."""
    found = [(record.current(CHRONIC_HYPOXAEMIA), ALTERNATIVE_CHRONIC_LUNG),
             (record.current(signals.SYSTEMIC_OEDEMA), ALTERNATIVE_HEART_FAILURE),
             (record.current(ACUTE_BREATHLESSNESS_CAUSE, FINDING), ALTERNATIVE_ACUTE)]
    return [(facts, words) for facts, words in found if facts]


def _only_breathlessness(symptoms) -> bool:
    """Every PE feature is a breathlessness code (no measured sign, chest pain, syncope...)."""
    return bool(symptoms) and all(DYSPNOEA in f.value_sets and not f.value_sets & OTHER_FEATURES for f in symptoms)


def _child_high_risk(record: PatientRecord, clot_shown: bool = False) -> list:
    """NG51's high-risk signs for the age (under 12: its rates for the age and the paediatric SpO₂; from 12:
    HR > 130, RR ≥ 25, SBP ≤ 90), the adult admission levels from 12, or a temperature below 35 °C; beside a
    PE already confirmed or shown (`clot_shown`), under 12 also a systolic pressure below PALS's limit for the
    age (r42 S1; from 12 the SBP < 90 above is that limit)."""
    adult = signals.adult_physiology(record)
    return signals.sepsis_high_risk(record) + (
        signals.at_admission_level(record, (signals.RESPIRATORY_RATE, signals.OXYGEN_SATURATION))
        + signals.very_fast_heart_rate(record) + signals.below(record, SYSTOLIC, ADMISSION_SYSTOLIC)
        if adult else signals.paediatric_high_risk(record)) + signals.too_cold(record) + (
        signals.paediatric_hypotension(record) if clot_shown and not adult else [])


def _admission_reasons(record: PatientRecord, finding: Finding, after=None) -> list:
    """The REMEDY/CKS immediate-admission criteria of the vital signs met (taken after `after`, if given),
    their readings added to the finding; beside COPD and the like the BTS target floor replaces SpO₂ 91 %
    (the 88-92 % range is no admission criterion: r32 F1)."""
    admit = []
    chronic_low = bool(record.current(CHRONIC_HYPOXAEMIA))
    for measurement, compare, limit, reason in ADMISSION_CRITERIA:
        if measurement == signals.OXYGEN_SATURATION and chronic_low:
            limit = SATURATION_FLOOR
        met = compare(record, measurement, limit, after)
        if met:
            admit.append(Say(reason, threshold=record.threshold(limit)))
            finding.add(met)
    return admit


def _treated_pe_worse(record: PatientRecord, known: list, symptoms: list) -> Finding | None:
    """A confirmed PE under full-strength anticoagulation (KB §1.8: a known diagnosis gets no "suspected"
    card, so no PE Wells, D-dimer or diagnostic CTPA). Its presenting symptoms, leg findings and physiology
    are expected, and residual breathlessness or SpO₂ in the low 90s for weeks; only what was recorded more
    than the new-symptom margin after it began is new (r34a F4: SpO₂ 89 % on the day it was diagnosed read
    as 'arrange admission, PE Wells, CTPA'). New immediate-admission physiology, syncope, haemoptysis or coded
    hypoxaemia, or new breathlessness or chest pain with a sign measured since (HR > 100, SpO₂ < 95 %,
    RR > 20, oxygen: r12 review), is recurrence, progression or a complication on treatment until shown
    otherwise (KB §8.2, §1.8: critical with PE features): senior or specialist review now."""
    after = _new_after(record, known)
    finding = Finding(SUSPECTED_PE, "critical", variant="treated-admit")
    admit = _admission_reasons(record, finding, after)
    new = [f for f in symptoms if _recorded_after(record, f, known)]
    alarming = [f for f in new if f.value_sets & (ALARMING_ALONE - {signals.PE})]
    residual = [f for f in new if f.value_sets & signals.RESIDUAL_PE_SYMPTOMS]
    signs = _signs_after(record, after) if residual and not admit and not alarming else []
    if admit:
        finding.values["admission_reasons"] = admit
    elif alarming or signs:
        finding.variant = "treated-worse"
    else:
        return None
    finding.add(alarming + residual + signs)
    finding.add(known + signals.full_strength(signals.on_anticoagulant(record)))
    finding.unknown = [Say(UNKNOWN_CONSCIOUSNESS)]
    return finding


def _new_after(record: PatientRecord, clots):
    """The time after which a finding is new beside these clots (the new-symptom margin after the latest
    began); None when none is dated: then every reading counts."""
    latest = max((c.onset or c.when for c in clots if c.onset or c.when), default=None)
    return latest + record.catalogue.window(NEW_SYMPTOM) if latest is not None else None


def _signs_after(record: PatientRecord, after) -> list:
    """The objective signs (HR > 100, RR > 20, SpO₂ < 95 % — below the BTS floor beside COPD —, an oxygen
    need) measured after `after`."""
    saturation = SATURATION_FLOOR if record.current(CHRONIC_HYPOXAEMIA) else signals.HYPOXAEMIA
    return (signals.tachycardia(record, after) + signals.above(record, signals.RESPIRATORY_RATE, signals.TACHYPNOEA, after)
            + signals.below(record, signals.OXYGEN_SATURATION, saturation, after)
            + signals.above(record, signals.OXYGEN_FLOW, signals.OXYGEN_NEED, after)
            + signals.above(record, signals.FIO2, signals.FIO2_NEED, after))


def known_pe_untreated(record: PatientRecord) -> Finding | None:
    """A confirmed, current PE with no active anticoagulant on record: treatment to be confirmed today
    (NICE NG158). Treated, it needs no card: the diagnosis is known."""
    known = signals.active_pe(record)
    treatment = signals.on_anticoagulant(record)
    if not known:
        return None
    began = signals.began(known)
    phase = record.catalogue.window(TREATMENT_PHASE)
    if signals.full_strength(treatment) or (treatment and began is not None and began < record.now - phase):
        # Treated (or the extended phase at a reduced dose: apixaban 2.5 mg, CHEST 2021 statement 26): no card,
        # unless the anticoagulant should not be used in this patient (r38b S3)
        return _conflicting_treatment(record, known, treatment)
    # No anticoagulant, or only a prophylaxis strength in the treatment phase (KB §8.3): not this PE's treatment.
    held = [] if treatment else signals.held_anticoagulants(record)  # named, with its words (r32 S2)
    pregnancy = signals.pregnant_or_postpartum(record)
    # Orders unread: 'not known', not 'none found' (r34b W2). In pregnancy or within 6 weeks of it, an untreated
    # PE is admitted and given LMWH (RCOG 37b), not started 'per NG158', which does not cover pregnancy (r38b W1)
    untreated = ("untreated-unknown" if signals.anticoagulation_unknown(record)
                 else "untreated-pregnancy" if pregnancy else "untreated")
    finding = Finding(KNOWN_PE, "warning", variant="prophylactic-dose" if treatment else "held" if held else untreated)
    finding.add(treatment + held)
    if finding.variant == "untreated-pregnancy":
        finding.add(known + pregnancy)
        return finding
    choice, facts = signals.anticoagulant_choice(record)
    finding.add(known + facts)
    finding.values["anticoagulant_choice"] = choice
    return finding


def _conflicting_treatment(record: PatientRecord, known: list, treatment: list) -> Finding | None:
    """A known PE on an anticoagulant the record says should not be used now — a DOAC or warfarin in
    pregnancy, a DOAC beside antiphospholipid syndrome, a DOAC below its eGFR cut-off
    (signals.anticoagulant_conflicts): a warning naming the drug and why (r38b S3), not silence."""
    conflicts = signals.anticoagulant_conflicts(record, treatment)
    if not conflicts:
        return None
    finding = Finding(KNOWN_PE, "warning", variant="anticoagulant-conflict")
    finding.add(known + treatment + [f for _, _, facts in conflicts for f in facts])
    finding.values["anticoagulant_conflict"] = signals.conflict_lines(record, conflicts)
    finding.values["anticoagulant_switch"] = signals.conflict_switch(record, conflicts)
    return finding


def _recorded_after(record: PatientRecord, fact, clots) -> bool:
    """The symptom began (its recorded onset, else when it was recorded) more than a day after the clot began:
    a new symptom, not the presenting one. The presenting breathlessness re-recorded at a follow-up visit with
    the PE's onset is still the presenting one (r36a 119; r34a F4: presenting symptoms are expected)."""
    after = _new_after(record, clots)
    began = fact.onset or fact.when
    return after is not None and began is not None and fact.when is not None and began > after
