"""The report reader on a corpus of real report wordings, in both directions (KB §8.7: only a report negative
as a whole closes anything). Positive: a clot named in any word form, or described without a clot word, or
wording the reader cannot place with no "no clot" beside it. Unread: an unplaced sentence beside "no clot".
Negative: every sentence negative, normal in known words, or about something outside the vessels."""
from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.content.catalogue import Catalogue
from cds_service.record.reports import BILATERAL, LEFT, NEGATIVE, POSITIVE, RIGHT, UNREAD, ReportReader

READER = ReportReader(Catalogue.load(Path(__file__).resolve().parents[2] / "cards"))

POSITIVE_REPORTS = [
    'No PE. Possible filling defect in a subsegmental artery.',  # r30 F1: a hedge about a clot or vessel still counts
    "No DVT. Possible Baker's cyst; thrombus cannot be excluded.",  # r30 F1: a hedge about a clot or vessel still counts
    'Possible consolidation. Filling defect in RLL segmental artery.',  # r30 F1: a hedge about a clot or vessel still counts
    'CFV/FV/PV compressible. PTV not compressible',  # a vein list or a vein label (session 2026-12-02)
    'No thrombus in CFV, FV or pop v. Echogenic material in PTV.',  # a vein list or a vein label (session 2026-12-02)
    "Multiple bilateral PEs. Normal heart size.",  # r17: plural clot words were unknown, the report negative
    "Right lower lobe pulmonary thromboembolism. Normal heart size.",
    "Normal heart size. Acute thromboembolic disease in the right lower lobe.",
    "Bilateral lower lobe thromboemboli.",
    "L calf DVTs. Normal proximal veins.",
    "Normal proximal veins. Calf: not collapsing.",
    "Normal proximal veins. PTV: NC x2.",
    "Normal calf veins. Above knee: non compressing with echo-bright contents.",
    "Calf: doesn't collapse with probe pressure",
    "Pulmonary arteries adequately opacified with a hypoattenuating focus in a right lower lobe segmental artery.",
    "Main pulmonary arteries well opacified. Hypoattenuating material in the RLL branches.",
    "Normal heart. Saddle-shaped defect at the bifurcation.",
    "Normal opacification of the pulmonary arteries with a non-enhancing segment.",
    "No compressibility of the femoral vein, consistent with occlusive DVT.",
    "No central PE, with occlusive emboli in the segmental arteries.",
    "No DVT in the femoral vein; occlusive thrombus in the posterior tibial vein.",
    "Superficial thrombosis near the saphenofemoral junction.",
    "Nil flow in the left popliteal vein. NAD elsewhere.",
    "The popliteal vein is poorly compressible.",
    "Non-diagnostic study due to motion.",
    "Pulmonary trunk 26 mm.",  # no sentence says "no PE": not negative
    # r19: a negated clot with a persistence word is still there
    "No change in the right lower lobe PE.",
    "No resolution of the previously seen PE.",
    "No improvement in clot burden.",
    "Proximal veins patent with hypoechoic material in the peroneal veins. No DVT above the knee.",
    "Query DVT R leg – thrombus in the popliteal vein.",  # the question split off, the finding still read
    "Venous duplex right lower limb. Non-compressible popliteal vein.",  # a title closes nothing
    "Doppler",  # a title alone says nothing: not negative
    # r27: a study label and side shorthand change nothing for a clot
    "Rt leg DVT scan: +ve",
    "DVT scan: thrombus in the R popliteal vein.",
    "Calf veins not imaged due to occlusive thrombus.",
    "Extensive occlusive thrombus R popliteal and femoral veins.",
    "LLE duplex: non-compressible CFV.",
    # A limitation not placed on the calf veins, or no proximal vein named clear: what was limited is unknown
    "Limited study due to body habitus. No evidence of DVT in the femoral or popliteal veins.",
    "Limited study due to body habitus. Calf veins not visualised. No DVT.",
    "Limited study. Popliteal vein not visualised. No DVT in the femoral vein.",
    "Limited study, popliteal vein not seen; no DVT in femoral vein",
    "Limited study due to thrombus. Calf veins not visualised. No DVT in the femoral or popliteal veins.",
    # Follow-up advice naming a clot or a vessel is no plain advice (r40 F9 boundary)
    "No DVT. Recommend repeat scan to exclude calf DVT.",
    "No proximal DVT. Repeat scan in 1 week as calf veins not visualised.",
    "Recommend repeat scan in one week if symptoms persist.",  # advice alone: no negative sentence
]
UNREAD_REPORTS = [
    "Pulmonary trunk 26 mm. No PE.",
    # r18: a negation closes only what it names, as it names it
    "No definite PE.",
    "No obvious pulmonary embolus.",
    "No central PE.",
    "No evidence of occlusive DVT.",
    "No significant DVT.",
    "No DVT. Popliteal vein 9 mm.",
    # r21: a "?" or "Query" after a finding, or under a findings label, is the radiologist's hedge, not the question
    "No proximal DVT. Query calf vein thrombosis, suggest repeat in 1 week.",
    "No DVT in the femoral or popliteal veins. ? thrombus in the right peroneal vein.",
    "Findings: query thrombus in the right popliteal vein. Conclusion: no DVT.",
    "No PE. ?Small subsegmental filling defect left lower lobe, likely artefact.",
    "No PE. Query right lower lobe infarct.",  # r22: an infarct is a clot's sign
]
NEGATIVE_REPORTS = [
    # r40 F9: the radiologist's follow-up advice is no finding and no hedge
    "Negative for DVT in the left lower extremity. Recommend repeat scan in one week if symptoms persist.",
    "No DVT in the left leg. Repeat scan in 1 week if symptoms persist.",
    'No pulmonary embolism. 3 cm RLL mass, suspicious for malignancy.',  # r30 F1: a hedged incidental finding
    'No PE. Probable basal atelectasis.',  # r30 F1: a hedged incidental finding
    'No pulmonary embolus. 5 mm nodule, likely benign; however, follow-up CT in 12 months.',  # r30 F1: a hedged incidental finding
    'No evidence of pulmonary embolism. Appearances suspicious for right lower lobe pneumonia.',  # r30 F1: a hedged incidental finding
    "No DVT. Probable Baker's cyst.",  # r30 F1: a hedged incidental finding
    'No thrombus in CFV, FV or pop v',  # a vein list or a vein label (session 2026-12-02)
    'No DVT in CFV, FV, pop v',  # a vein list or a vein label (session 2026-12-02)
    'CFV, FV, pop v: no thrombus',  # a vein list or a vein label (session 2026-12-02)
    'CFV/FV/PV compressible, no thrombus',  # a vein list or a vein label (session 2026-12-02)
    'CTPA: -ve for PE',  # r28 review
    'CTPA -ve for PE',  # r28 review
    'R LL venous duplex: NAD',  # r28 review

    "No evidence of pulmonary thromboembolism.",
    "No central or peripheral pulmonary emboli.",
    "The pulmonary arteries are normal. No PE.",
    "Adequate contrast opacification of the pulmonary arteries. No PE.",
    "Satisfactory opacification of the pulmonary arteries. No filling defect.",
    "Normal opacification, no filling defects.",
    "Pulmonary arteries opacify well with no filling defect.",
    "Pulmonary arteries of normal calibre. No PE.",
    "No acute PE. Normal RV/LV ratio.",
    "No PE. Incidental 4 mm RUL nodule, no follow-up needed.",
    "No acute PE. Atelectasis at both bases.",
    "CTPA performed with IV contrast. No PE.",
    "No DVT. Incidental Baker's cyst.",
    "No DVT. Popliteal fossa: 3 cm Baker's cyst medial to the popliteal vein.",
    "No DVT. Deep veins compressible throughout.",
    "Left CFV, FV and popliteal vein: compressible, normal flow. Calf veins: compressible. Conclusion: No DVT.",
    "No DVT. Saphenofemoral junction competent, great saphenous vein of normal calibre.",
    "No occlusive or non-occlusive thrombus.",
    "Left leg: NAD, no DVT.",
    "Nil DVT.",
    "Normal study",
    # r18: leading words, list marks and a negated positive word do not make a negative report positive
    "No PE. No evidence of right heart strain.",
    "No PE or right heart strain.",
    "CTPA: No PE.",
    "CT: no PE.",
    "Today's CTPA shows no PE.",
    "Again no PE seen.",
    "1) No PE 2) Bibasal atelectasis",
    "- No PE\n- Mild bibasal atelectasis",
    "No PE. No pulmonary infarct.",
    "US: no DVT.",
    "No DVT. No venous occlusion.",
    "No proximal DVT left leg.",
    "No central, lobar or segmental PE.",
    "Comparison: none. No evidence of left lower limb DVT.",
    # r19: history and request lines are the question; more label and list forms
    "Indication: ?PE. No PE.",
    "Clinical details: known L calf DVT, now SOB ?PE.\nConclusion: No pulmonary embolus.",
    "Impression - no PE.",
    "a) No PE. b) No pneumothorax.",
    "i) No PE ii) Bibasal atelectasis",
    "No saddle embolus or PE.",
    "No DVT or superficial thrombophlebitis.",
    # r20: a question line, "=" labels, a negated list of clots
    "?PE\nNo PE seen.",
    "History: Post-op TKR, SOB. Query PE.\nNo PE.",
    "? PE. No PE.",  # r21: a question heading the report is still the request
    "Indication: ?DVT. No DVT.",
    "No DVT in the right leg. ?Ruptured Baker's cyst.",  # r22: a hedge about something else is no hedged clot
    "No pulmonary embolism. Query early consolidation right lower lobe.",
    "IMPRESSION = No PE",
    "No acute PE or chronic thromboembolic disease.",
    # r24/r25: the study's name as its first line, the question asked before a spaced dash, "Clinical query:"
    "Venous duplex right lower limb\nImpression: No DVT.",
    "US DOPPLER RIGHT LEG VEINS\nThe femoral and popliteal veins are fully compressible. No DVT.",
    "Query DVT R leg – no evidence of DVT in the right leg.",
    "Clinical query: ?DVT right leg. Findings: no deep vein thrombosis in the right leg.",
    # r27 (F4): side shorthand, a study label before the answer, a reason after the calf-scope sentence
    "Rt leg DVT scan: -ve",
    "No evidence of DVT R leg.",
    "No DVT seen R CFV to popliteal. Calf veins not imaged due to oedema.",
    "LLE venous duplex: negative",
    "No DVT in the RLE.",
    "Lt leg duplex - negative",
    "No DVT L CFV, FV or PV. Calf veins not assessed because of pain.",
    # A limitation placed on the calf veins, the proximal veins named clear (r39 W5)
    "Limited study due to body habitus. Calf veins not visualised. No evidence of DVT in the femoral or popliteal veins.",
    "Limited study, calf veins not seen; no DVT in femoral or popliteal veins",
    "Technically limited study. Calf veins not assessed. No proximal DVT.",
]
# r27 (S9): a report that shows a proximal DVT in plain words is a DVT to treat (NG158 1.1.3)...
SHOWN_REPORTS = [
    'Popliteal vein: thrombus',  # a vein list or a vein label (session 2026-12-02)
    'Left popliteal vein: occlusive thrombus',  # a vein list or a vein label (session 2026-12-02)
    'CFV, FV, pop v: occlusive thrombus',  # a vein list or a vein label (session 2026-12-02)
    'Thrombus seen R pop v.',  # r28 review
    'Extensive iliofemoral DVT',  # r28 review
    'Acute DVT involving the right popliteal and posterior tibial veins',  # r28 review

    "Extensive occlusive thrombus R popliteal and femoral veins.",
    "Acute DVT right popliteal vein.",
    "Non-occlusive thrombus in the left CFV.",
    "Occlusive thrombus in the peroneal veins extending into the popliteal vein.",
    "Calf veins not imaged due to oedema. Acute DVT left CFV.",
    "AMENDED: Non-occlusive thrombus in the right popliteal vein.",
]
# ...and every other positive report is one to read: distal, superficial, chronic, known, hedged, described
# without a clot word, or a clot with no proximal vein named.
NOT_SHOWN_POSITIVE_REPORTS = [
    'Clinical: popliteal DVT query. Thrombus in calf veins',  # a vein list or a vein label (session 2026-12-02)
    'Left popliteal vein: no thrombus. Left PTV: thrombus',  # a vein list or a vein label (session 2026-12-02)
    'Calf veins: thrombus. Popliteal vein: normal',  # a vein list or a vein label (session 2026-12-02)
    'Isolated calf DVT in the posterior tibial veins, below the popliteal trifurcation',  # r28 review
    'Thrombus in the peroneal veins; popliteal vein patent and compressible',  # r28 review

    "L calf DVTs. Normal proximal veins.",
    "No DVT in the femoral vein; occlusive thrombus in the posterior tibial vein.",
    "Popliteal vein patent, thrombus in peroneal veins.",
    "Superficial thrombophlebitis of the GSV 2 cm from the SFJ.",
    "Superficial thrombosis near the saphenofemoral junction.",
    "Thrombus in the popliteal vein. This is likely chronic.",
    "Known DVT in the popliteal vein, unchanged.",
    "Possible thrombus in the popliteal vein.",
    "DVT popliteal vein?",
    "Query DVT R leg – thrombus in the popliteal vein.",
    "Venous duplex right lower limb. Non-compressible popliteal vein.",
    "Acute DVT R leg.",
    "Non-diagnostic study due to motion.",
    "Doppler",
]


@pytest.mark.parametrize("text", POSITIVE_REPORTS)
def test_a_clot_named_or_described_in_any_words_is_not_negative(text):
    assert READER.read(text) == POSITIVE


@pytest.mark.parametrize("text", UNREAD_REPORTS)
def test_an_unplaced_sentence_beside_no_clot_is_a_report_to_read(text):
    assert READER.read(text) == UNREAD


@pytest.mark.parametrize("text", NEGATIVE_REPORTS)
def test_a_report_negative_as_a_whole_in_standard_wording_is_negative(text):
    assert READER.read(text) == NEGATIVE


# r28 (W2): a CTPA that names an embolus plainly is a PE to treat (NG158); a hedge, a chronic or known clot, a
# thrombus elsewhere or a description without an embolus word is a report to read.
SHOWN_PE_REPORTS = [
    "Acute bilateral segmental pulmonary emboli. No right heart strain.",
    "Multiple bilateral PEs.",
    "Saddle embolus with RV strain.",
    "Filling defects in the right lower lobe segmental arteries.",
    "Right lower lobe pulmonary thromboembolism.",
]
NOT_SHOWN_PE_POSITIVE_REPORTS = [
    "Possible subsegmental PE, likely mixing artefact.",
    "Chronic thromboembolic disease.",
    "No acute PE. Known chronic PE unchanged.",
    "Thrombus in the left atrial appendage.",
    "Hypoattenuating focus in a segmental artery.",
    "Subsegmental filling defect may represent PE.",
    "Limited study. PE in RLL.",
    "Acute PE with normal RV size.",  # a denial word in the sentence: read, not assumed
    "Impression: acute PE. History: ?PE",
]


# Each reader of "shown" (a proximal DVT on a leg scan, a PE on a CTPA) with the reports it must and must not take
SHOWN = [("shows_dvt", text) for text in SHOWN_REPORTS] + [("shows_pe", text) for text in SHOWN_PE_REPORTS]
NOT_SHOWN = [("shows_dvt", text) for text in NOT_SHOWN_POSITIVE_REPORTS + UNREAD_REPORTS + NEGATIVE_REPORTS] + [
    ("shows_pe", text) for text in NOT_SHOWN_PE_POSITIVE_REPORTS + UNREAD_REPORTS + NEGATIVE_REPORTS]


@pytest.mark.parametrize("shows, text", SHOWN)
def test_a_clot_named_plainly_is_shown(shows, text):
    assert READER.read(text) == POSITIVE and getattr(READER, shows)(text)


@pytest.mark.parametrize("shows, text", NOT_SHOWN)
def test_any_other_report_shows_no_clot_to_treat(shows, text):
    assert not getattr(READER, shows)(text)


@pytest.mark.parametrize("text", NOT_SHOWN_PE_POSITIVE_REPORTS)
def test_a_pe_report_that_is_not_plain_is_still_positive(text):
    assert READER.read(text) == POSITIVE


@pytest.mark.parametrize("text, side", [
    ("No evidence of DVT R leg.", RIGHT), ("No DVT in the LLE.", LEFT), ("Rt CFV compressible. No DVT.", RIGHT),
    ("LLE venous duplex: negative", LEFT), ("Left leg: NAD, no DVT.", LEFT),
    ("R/O DVT left leg: no DVT", LEFT),  # "r/o" is no side: a left scan never closes the right leg
    ("No DVT R or L leg.", BILATERAL),
])
def test_side_shorthand_names_the_leg(text, side):
    assert READER.sides(text) == frozenset({side})
