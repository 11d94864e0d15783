"""Build valueset/<id>.json (FHIR R4 ValueSets) from the specification below.

Usage (from the repository root)::

    python valueset/build_valuesets.py          # (re)write every valueset/<id>.json
    python valueset/build_valuesets.py --check  # exit 1 if a file differs from what would be written

Inputs
* ``valueset/verified-codes.json`` - the project's record of SNOMED CT, LOINC and RxNorm
  codes transcribed from the clinical knowledge base (KB).  Displays and source tags of
  every non-ICD concept come from there; a code missing from it is an error.
* simple-icd-10-cm 1.5.0 (ICD-10-CM April 2026) through ``build_icd10cm.py`` - every
  ICD-10-CM family the KB names is expanded into its billable leaf codes, and every
  ICD-10-CM code is checked to be a billable leaf of that release.

Output is deterministic (no dates), so ``--check`` can run in CI and in the tests.
The ``valueset:<id>`` entries of each code's ``uses`` list in verified-codes.json are
rewritten here as well.

Concept extensions (on ``compose.include.concept``):
* ``.../StructureDefinition/code-source`` (valueString, one per source tag);
* ``.../StructureDefinition/code-note``   (valueString, optional caveat for rule authors).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_icd10cm as icd  # noqa: E402  (sibling module, not a package)

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYSTEM_ORDER = [SCT, ICD10CM, LOINC, RXNORM]

URL_BASE = "https://posterior-knee-pain.example/fhir/ValueSet/"
CODE_SOURCE_URL = "https://posterior-knee-pain.example/fhir/StructureDefinition/code-source"
CODE_NOTE_URL = "https://posterior-knee-pain.example/fhir/StructureDefinition/code-note"
VERIFIED_CODES = HERE / "verified-codes.json"

# ICD-10-CM source tags (the SNOMED/LOINC/RxNorm tags come from verified-codes.json).
TAG_KB = "KB-ICD"  # named explicitly in the KB (its ✔ICD check, April 2026 release)
TAG_ENUM = "ICD-ENUM"  # leaf of a family the KB names (or sibling of the right/left codes it names)
TAG_ADDED = "ICD-ADDED"  # leaf added here beyond the KB's list; the code-note says why
TAG_VSAC = "S-VSAC"  # also in the VSAC VTE expansion CSV beside the KB
TAG_HEADER = "ICD-HEADER"  # non-billable header whose every billable leaf is in the set

AMBIGUOUS_R22_4 = (
    "AMBIGUOUS: ICD-10-CM R22.4x means 'localized swelling, mass and lump, lower limb'. "
    "It is in both leg-swelling and leg-mass by design; treat it as a mass only when the "
    "same Condition also carries SNOMED 309527000 (or the text says mass/lump), otherwise "
    "as swelling (KB §5.11, Appendix A)."
)

# ICD-10-CM codes the KB names one by one (§1.7-§1.9, §3.1, §3.2, Appendix A).
KB_NAMED_ICD = {
    "I82.401", "I82.402", "I82.403", "I82.409", "I82.431", "I82.432", "I82.433", "I82.439",
    "I80.221", "I80.222", "I80.223", "I80.229", "I82.531",
    "I82.4Y1", "I82.4Y2", "I82.4Y3", "I82.4Y9", "I82.4Z1", "I82.4Z2", "I82.4Z3", "I82.4Z9",
    "O22.30", "O22.31", "O22.32", "O22.33", "O87.1", "Z86.718", "Z86.711",
    "I26.92", "I26.93", "I26.94", "I26.99", "O88.23", "Z79.01",
    "M71.20", "M71.21", "M71.22", "M66.0",
    "S83.241A", "S83.242A", "S83.281A", "S83.282A", "S83.203A", "S83.204A",
    "M23.221", "M23.222", "M23.251", "M23.252",
    "S83.511A", "S83.512A", "S83.519A", "S83.521A", "S83.522A", "S83.529A",
    "S76.311A", "S76.312A", "S76.319A", "S86.111A", "S86.112A", "M62.161", "M62.162",
    "M17.0", "M17.10", "M17.11", "M17.12", "M17.9",
    "S83.91XA", "S83.92XA", "S83.104A", "S85.001A",
    "I72.4", "I74.3", "G57.30", "G57.31", "G57.32", "G57.33", "M21.371", "M21.372",
    "C49.20", "C49.21", "C49.22", "C79.51", "Z33.1", "Z3A.26", "Z47.1", "Z74.01",
    "G82.20", "G82.21", "G82.22", "M00.061", "M00.062", "M00.861", "M00.862", "M00.9",
    "L03.115", "L03.116", "M25.561", "M25.562", "M25.569", "M79.661", "M79.662",
    "M79.604", "M79.605", "R22.40", "R22.41", "R22.42", "R22.43", "R60.0",
    "M25.461", "M25.462", "R50.9", "R50.82", "R06.00", "R06.02", "R07.81", "R07.1", "R07.9",
    "R04.2", "R00.0", "R09.02", "R55", "R20.0", "R20.2", "R23.1", "R63.4", "R61",
}

# ICD-10-CM codes of the VSAC Venous Thromboembolism expansion (CSV beside the KB, 52 codes).
VSAC_VTE_ICD = {
    "I26.02", "I26.09", "I26.92", "I26.93", "I26.94", "I26.99",
    "I80.10", "I80.11", "I80.12", "I80.13",
    "I80.201", "I80.202", "I80.203", "I80.209", "I80.211", "I80.212", "I80.213", "I80.219",
    "I80.221", "I80.222", "I80.223", "I80.229", "I80.291", "I80.292", "I80.293", "I80.299",
    "I80.3", "I80.9", "I82.220", "I82.290",
    "I82.401", "I82.402", "I82.403", "I82.409", "I82.411", "I82.412", "I82.413", "I82.419",
    "I82.421", "I82.422", "I82.423", "I82.429", "I82.431", "I82.432", "I82.433", "I82.439",
    "I82.4Y1", "I82.4Y2", "I82.4Y3", "I82.4Y9", "I82.890", "I82.90",
}


# --------------------------------------------------------------------------- ICD items
@dataclass
class IcdItem:
    """One line of a value set's ICD-10-CM part.

    kind: "code" (one code), "family" (leaves of a category), "malignant" (C00-C96).
    added: None = KB-named; otherwise the reason this is an addition beyond the KB.
    """

    kind: str
    code: str = ""
    seventh: str | None = None
    exclude: tuple[str, ...] = ()
    added: str | None = None
    enum: bool = False
    note: str | None = None

    def codes(self) -> list[str]:
        if self.kind == "code":
            return [self.code]
        if self.kind == "family":
            return [c for c in icd.family_leaves(self.code, self.seventh) if c not in self.exclude]
        if self.kind == "malignant":
            return [c for c in icd.malignant_neoplasm_leaves() if c not in self.exclude]
        raise ValueError(self.kind)

    def tag(self, code: str) -> str:
        if code in KB_NAMED_ICD:
            return TAG_KB
        if self.added is not None and not self.enum:
            return TAG_ADDED
        return TAG_ENUM


def K(*codes: str, note: str | None = None) -> list[IcdItem]:
    """Codes the KB names one by one."""
    for c in codes:
        assert c in KB_NAMED_ICD, c
    return [IcdItem("code", c, note=note) for c in codes]


def F(family: str, seventh: str | None = None, exclude=(), added: str | None = None, note: str | None = None) -> list[IcdItem]:
    """Leaves of a family the KB names (added=None) or a family added here (added=reason)."""
    return [IcdItem("family", family, seventh=seventh, exclude=tuple(exclude), added=added, note=note)]


def X(code: str, why: str, enum: bool = False) -> list[IcdItem]:
    """A code added here that the KB does not name; ``why`` goes into the code-note."""
    return [IcdItem("code", code, added=why, enum=enum)]


def MALIGNANT() -> list[IcdItem]:
    return [IcdItem("malignant")]


def cancer_note(code: str) -> str | None:
    desc = icd.description(code).lower()
    if "in remission" in desc:
        return ("In remission: counts as active cancer (Wells) only if treatment is ongoing, "
                "was given within 6 months, or is palliative - check the record.")
    if code.startswith("C44."):
        return ("Non-melanoma skin cancer (C44): inside C00-C96 as the KB asks; many VTE risk "
                "tools do not count it - rule authors may choose to ignore it.")
    return None


# --------------------------------------------------------------------------- spec
@dataclass
class Spec:
    id: str
    title: str
    description: str
    snomed: list[str] = field(default_factory=list)
    loinc: list[str] = field(default_factory=list)
    rxnorm: list[str] = field(default_factory=list)
    icd: list[IcdItem] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # per-code notes (any system)


ICD_TAIL = (" ICD-10-CM codes are billable leaves of ICD-10-CM April 2026 via simple-icd-10-cm 1.5.0"
            " (families expanded by valueset/build_valuesets.py); per-code source tags: KB-ICD = named"
            " in the KB, ICD-ENUM = leaf of a KB-named family, ICD-ADDED = added beyond the KB"
            " (code-note says why), S-VSAC = also in the VSAC VTE expansion.")

SPECS: list[Spec] = [
    # ------------------------------------------------------------------ VTE
    Spec(
        "dvt-lower-limb", "Deep vein thrombosis of the lower limb (active / acute)",
        "Known, active or acute DVT of the leg: popliteal, distal (tibial, peroneal, calf muscular),"
        " proximal (femoral, iliac), unspecified and bilateral DVT, deep-vein thrombophlebitis,"
        " post-operative DVT and DVT in pregnancy or the puerperium. Used for 'active_dvt' (KB §1.8,"
        " Appendix A): with an active anticoagulant it suppresses the suspected-DVT card; with PE"
        " features it supports the PE card. Membership says nothing about currency: the rule must still"
        " check clinicalStatus and onset (KB: ~3-6 months). Built as KB §3.5 advises (all I82.4-, I80.1-,"
        " I80.2-, O22.3-, O87.1 plus SNOMED DVT concepts) because the VSAC VTE set lacks distal DVT."
        " Left out on purpose: chronic DVT I82.5- (in vte-history), superficial thrombophlebitis"
        " (superficial-thrombophlebitis), SNOMED phlebitis-only and unspecified-depth concepts"
        " (25114006, 195405004, 35979000, 312588002, 46253008 and I80.3), pelvic/caval veins (internal"
        " iliac 195426004, vena cava), and T81.72XA (a 'code also' companion of I82.4-, not a DVT code)."
        " Sources: S-VSAC (VTE expansion CSV and Obstetrics VTE), S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["128053003", "404223003", "427776007", "132251000119101", "132291000119106",
                "132301000119107", "134399007", "16750002", "1748006", "195410000", "195411001",
                "213220000", "234044007", "40198004", "427775006", "444325005", "52496006",
                "42861008", "195425000", "195427008", "49956009", "56272000"],
        icd=F("I82.4") + F("I80.1") + F("I80.2") + F("O22.3") + K("O87.1"),
        notes={"128053003": "Generic DVT (any site); the KB counts it as leg DVT (maps to I82.40-).",
               "42861008": "Iliac vein thrombophlebitis: proximal leg DVT in ICD-10-CM (I80.21-).",
               "195425000": "Iliac vein thrombophlebitis: proximal leg DVT in ICD-10-CM (I80.21-).",
               "195427008": "Iliac vein thrombophlebitis: proximal leg DVT in ICD-10-CM (I80.21-)."},
    ),
    Spec(
        "vte-history", "Personal history of VTE (DVT or PE), incl. chronic DVT",
        "Previously documented DVT or PE: Wells DVT item 9 (+1), PE-Wells 'previous DVT/PE' (+1.5) and"
        " PERC 'prior DVT/PE' (KB §1.1, §1.6, §1.9). Includes Z86.71x and the chronic DVT family"
        " I82.5- (decision: a chronic/residual DVT is a previously documented DVT, not an acute one, so it"
        " is not in dvt-lower-limb and does not suppress the suspected-DVT card). Resolved or inactive"
        " I82.4- Conditions also count as history - that is rule logic on clinicalStatus, not membership"
        " here. Sources: S-CORE (via KB §7 current terms), ICD-10-CM." + ICD_TAIL,
        snomed=["161508001", "161512007"],
        icd=K("Z86.711", "Z86.718") + F("I82.5", note="Chronic DVT of the leg: previously documented DVT (Wells item 9), not acute DVT."),
    ),
    Spec(
        "pulmonary-embolism", "Pulmonary embolism (thromboembolic)",
        "Known or recorded pulmonary embolism, incl. saddle, subsegmental, with acute cor pulmonale,"
        " post-operative, recurrent and obstetric PE (KB §3.1). Excluded: septic PE I26.01 / I26.90 (KB),"
        " and cement / fat embolism I26.03, I26.04, I26.95, I26.96 (present in the 2026 release inside"
        " the KB's I26.0x family; not thromboembolic). O88.22 (thromboembolism in childbirth) is added as"
        " the remaining leaf of O88.2 next to the KB's O88.21x / O88.23. Other SNOMED concepts of the VSAC VTE"
        " set are left out as not clearly thromboembolic PE: in-situ pulmonary artery/pulmonary thrombosis"
        " (57834008, 69357003), infarction-only (64662007, 83727005, 11029002, 441746000), pulmonary-vein"
        " thrombosis (77892009) and microemboli (74315008). Sources: S-VSAC, S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["59282003", "233935004", "438773007", "194883006", "233936003", "1001000119102"],
        icd=K("I26.92", "I26.93", "I26.94", "I26.99") + F("I26.0", exclude=("I26.01", "I26.03", "I26.04"))
        + F("O88.21") + K("O88.23")
        + X("O88.22", "Thromboembolism in childbirth: remaining leaf of O88.2 (obstetric thromboembolism); the KB names O88.21x and O88.23."),
    ),
    Spec(
        "pregnancy", "Pregnancy (Condition codes)",
        "Patient is pregnant: NICE NG158 does not apply; the RCOG 37b pathway, the LEFt rule, no DOACs,"
        " and immediate admission for suspected PE apply (KB §1.8, Appendix A). Includes Z33.1, the"
        " Z3A weeks-of-gestation codes, Z34 supervision of normal pregnancy and O09 supervision of"
        " high-risk pregnancy, as KB §3.1 and Appendix A name them. Pregnancy-status and hCG"
        " Observations are in pregnancy-status-observation / pregnancy-test-observation. Gap: other"
        " O-chapter codes also imply pregnancy (VSAC Pregnancy 2.16.840.1.113883.3.526.3.378 has 1987"
        " codes) and are not copied here. 255409004 'Pregnant woman (person)' was inactivated in SNOMED CT"
        " International 2024-11 (replaced by 77386006): input matching only. Sources: S-VSAC, S-CORE,"
        " ICD-10-CM." + ICD_TAIL,
        snomed=["77386006", "255409004"],
        icd=K("Z33.1") + F("Z34") + F("O09") + F("Z3A"),
    ),
    Spec(
        "postpartum", "Postpartum / puerperium",
        "Recently delivered patient (KB: '< 6 weeks postpartum' is out of NG158 scope and suspected PE"
        " means immediate admission, §1.6, §1.8). The rule must check the date (onset/recordedDate within"
        " 6 weeks). Contains the puerperium codes the KB names (O87.1, O88.23, SNOMED 56272000), Z39.0"
        " (care immediately after delivery) and the delivery codes Z37 (outcome of delivery), O80 and O82"
        " (delivery encounters), each dated at delivery. Z39.1 (care of the lactating mother) and Z39.2"
        " (routine follow-up, itself about 6 weeks after delivery) are left out: they would stretch the"
        " 6-week window. Gap: no verified SNOMED 'postpartum state' concept in the KB. Sources: S-VSAC,"
        " ICD-10-CM." + ICD_TAIL,
        snomed=["56272000"],
        icd=K("O87.1", "O88.23")
        + X("Z39.0", "Postpartum care encounter (immediately after delivery); named in the project brief, not in the KB.")
        + F("Z37", added="Outcome of delivery: dated at delivery, so it starts the 6-week postpartum window.")
        + X("O80", "Encounter for full-term uncomplicated delivery: dated at delivery.")
        + X("O82", "Encounter for cesarean delivery without indication: dated at delivery."),
    ),
    Spec(
        "active-cancer", "Malignant neoplasm (candidate 'active cancer')",
        "Malignancy for Wells item 1 / PE-Wells malignancy: pragmatic explicit set = the SNOMED codes the"
        " KB gives plus every ICD-10-CM C00-C96 leaf (incl. C4A, C7A, C7B; no D-codes; history Z85.x is"
        " not active cancer and is not here). 'Active' (treatment ongoing, within 6 months, or palliative)"
        " is rule logic on clinicalStatus / dates. Codes 'in remission' and C44 non-melanoma skin cancers"
        " carry a code-note. The VSAC Cancer value set 2.16.840.1.113883.3.526.3.1010 (6688 SNOMED + 1293"
        " ICD-10-CM) is not copied (licensing, KB §3.5). Sources: S-VSAC, S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["363346000", "302851001", "721579004", "94057003", "424413001"],
        icd=MALIGNANT(),
    ),
    Spec(
        "anticoagulants", "Anticoagulant medicines (RxNorm)",
        "MedicationRequest/MedicationStatement codes meaning 'on anticoagulation' (KB §1.8 suppression"
        " logic, D-dimer falsely low). Only the RxNorm codes the KB verifies: ingredients apixaban,"
        " rivaroxaban, dabigatran etexilate, edoxaban, warfarin, enoxaparin, heparin (KB §6.E, sources S16/"
        "S17) and the clinical-drug examples of KB §3.3 / §6.E (S-VSAC / S18). Gap: MedicationRequests"
        " usually carry SCD/SBD codes; only 6 SCDs are here, so match by ingredient (e.g. via RxNav) or"
        " adopt the full VSAC 'Anticoagulants for All Indications' 2.16.840.1.113762.1.4.1248.22 expansion"
        " (66 RxNorm codes, licence permitting). Not verified, so not here: dalteparin, tinzaparin and"
        " fondaparinux ingredient RXCUIs and base 'dabigatran'. Sources: KB6-S16, KB6-S17, KB6-S18, S-VSAC.",
        rxnorm=["1364430", "1114195", "1037042", "1599538", "11289", "67108", "5224",
                "1364445", "1232086", "855332", "854238", "978759", "861360"],
    ),
    Spec(
        "long-term-anticoagulant-use", "Long-term (current) use of anticoagulants (Condition code)",
        "Problem-list/encounter code Z79.01 meaning the patient is on anticoagulation (KB §1.8, VSAC"
        " LongTermAnticoagulantUse 2.16.840.1.113762.1.4.1029.366). SNOMED 182764009 'Anticoagulant"
        " therapy' is a procedure concept (one-off or past therapy) and is deliberately not here."
        " Sources: ICD-10-CM." + ICD_TAIL,
        icd=K("Z79.01"),
    ),
    Spec(
        "major-surgery", "Major surgery (recent-surgery evidence)",
        "Evidence of major surgery for Wells item 3 (<= 12 weeks with general/regional anaesthesia), PE"
        " Wells (<= 4 weeks) and PERC. Only the procedure codes the KB verifies: total knee replacement"
        " (S-VSAC KneeReplacementSurgery). Z47.1 (aftercare following joint replacement) is a Condition /"
        " encounter proxy for a recent joint replacement. The rule must check Procedure.performed or the"
        " Condition date. Gaps: hip replacement, general/neuraxial anaesthesia and other major surgery"
        " have no verified codes in the KB (VSAC HipReplacementSurgery, GeneralorNeuraxialAnesthesia and"
        " MajorSurgicalProcedure OIDs only); Z96.65x (presence of artificial knee) and Z98.890 are status"
        " codes of any age and are left out. Sources: S-VSAC, S-IPS, ICD-10-CM." + ICD_TAIL,
        snomed=["609588000", "443682009"],
        icd=K("Z47.1", note="Condition/encounter code, not a Procedure: use its onset/recordedDate as the surgery-date proxy."),
    ),
    Spec(
        "immobilisation", "Bed-ridden / bed confinement",
        "Recently bedridden (Wells item 3: >= 3 days) and PE-Wells immobilisation (> 3 days). The rule"
        " must check recency. Z74.09 (other reduced mobility) and Z99.3 (wheelchair) are left out: they"
        " do not mean bed-ridden. Gap: no verified code for plaster cast / lower-limb immobilisation"
        " (KB §3.6). Sources: S-VSAC (FrailtySymptom), ICD-10-CM." + ICD_TAIL,
        snomed=["160685001"],
        icd=K("Z74.01"),
    ),
    Spec(
        "paralysis-paresis", "Paralysis or paresis (lower limbs)",
        "Wells item 2 'paralysis, paresis or recent plaster immobilisation of the lower extremities'."
        " The KB's codes: paraplegia G82.2-, hemiplegia G81.9-, monoplegia of lower limb G83.1- and the"
        " SNOMED paralysis/paresis concepts. 44695005 'Paralysis' and 20022000 'Hemiparesis' are not"
        " leg-specific. Gaps: G81.0-/G81.1- (flaccid/spastic hemiplegia) and quadriplegia G82.5- are not"
        " named by the KB and are not here. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["44695005", "60389000", "20022000", "102568007", "249945007"],
        icd=F("G82.2") + F("G81.9") + F("G83.1"),
    ),
    Spec(
        "leg-swelling", "Swelling or oedema of the leg",
        "DVT feature: leg/calf swelling or oedema (Wells items 5-7 need bedside detail; PERC 'unilateral"
        " leg swelling'). R22.4x is ambiguous (swelling, mass or lump) and is also in leg-mass by design:"
        " a Condition that also carries SNOMED 309527000 is a mass (KB §3.2, §5.11, Appendix A). 80068009"
        " 'Swelling of limb' is not leg-specific (check bodySite). M25.46x knee effusion is not limb"
        " swelling (knee-effusion). R22.43 (bilateral) and R60.0 (localized oedema, any site) are left out:"
        " the DVT feature is swelling of one leg (KB Appendix A), and bilateral oedema points elsewhere"
        " (heart failure). Gap: no verified SNOMED for 'swelling of calf' (KB §3.6). Sources:"
        " S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["80068009", "102572006"],
        icd=F("R22.4", exclude=("R22.43",), note=AMBIGUOUS_R22_4),
    ),
    Spec(
        "leg-mass", "Mass or lump of the lower limb",
        "Tumour work-up: a lower-limb mass (KB §2.3 'Tumour', §2.4 malignancy red flags - enlarging, deep"
        " or > 5 cm mass). SNOMED 309527000 is the unambiguous code; R22.4x (swelling, mass and lump) is"
        " also in leg-swelling by design - see the code-note. R22.43 (bilateral) is left out, as in"
        " leg-swelling: alone it is neither a DVT feature nor a tumour red flag. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["309527000"],
        icd=F("R22.4", exclude=("R22.43",), note=AMBIGUOUS_R22_4),
    ),
    Spec(
        "calf-pain", "Calf / lower-leg pain",
        "DVT feature (calf pain or tenderness) and differential for calf muscle injury. SNOMED pain in calf"
        " and ICD-10-CM M79.66- pain in lower leg. Gaps: no verified SNOMED for 'pain in popliteal fossa'"
        " (KB §3.6); 'Tenderness' 247348008 is an exam finding without site and is not used. Whole-leg"
        " pain is in leg-pain. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["300954003"],
        icd=F("M79.66"),
    ),
    Spec(
        "leg-pain", "Pain in the leg (lower limb, not site-specific)",
        "Less specific than calf-pain: pain in lower limb (KB §3.2 'calf pain / leg pain'). Useful as a"
        " weaker DVT feature or MSK context; not by itself a Wells item. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["10601006"],
        icd=K("M79.604", "M79.605")
        + X("M79.606", "Pain in leg, unspecified: unspecified-side sibling of the KB's M79.604 / M79.605.", enum=True),
    ),
    Spec(
        "knee-pain", "Knee pain",
        "Entry condition of the service (posterior knee pain has no dedicated code, KB §3.2). SNOMED"
        " 30989003 is probably inactive (KB §7): kept for old records, with the newer 1003722009 and"
        " 1003721002 for current ones. Sources: S-CORE, S-IPS, ICD-10-CM." + ICD_TAIL,
        snomed=["30989003", "1003722009", "1003721002"],
        icd=F("M25.56"),
    ),
    Spec(
        "knee-effusion", "Knee joint effusion",
        "Hot swollen knee for the septic-arthritis rule (effusion + fever / raised CRP or WBC, KB §2.4) and"
        " the chronic-knee-pain imaging pathway. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["202381003"],
        icd=F("M25.46"),
    ),
    Spec(
        "bakers-cyst", "Baker's (popliteal) cyst, intact or ruptured",
        "Popliteal (Baker's) cyst incl. rupture M66.0. A Baker's cyst never lowers DVT priority and never"
        " auto-applies the Wells -2 item (KB §1.7). Ruptured cysts are also in bakers-cyst-ruptured."
        " SNOMED 82675004 has unknown current status (KB §7) and 240008008 'Synovial cyst of knee' is"
        " broader: both input-only. Gap: no SNOMED code for a ruptured Baker's cyst (KB §3.6). Sources:"
        " S-CORE, S-IPS, ICD-10-CM." + ICD_TAIL,
        snomed=["82675004", "240008008"],
        icd=F("M71.2") + K("M66.0", note="Ruptured popliteal cyst: clinically indistinguishable from DVT - venous duplex first (KB §1.7)."),
    ),
    Spec(
        "bakers-cyst-ruptured", "Ruptured Baker's cyst",
        "Ruptured popliteal cyst ('pseudothrombophlebitis'): a DVT mimic that can coexist with DVT; same-day"
        " venous duplex first (KB §1.7, §2.3). ICD-10-CM only: the KB found no SNOMED code (KB §3.6)."
        + ICD_TAIL,
        icd=K("M66.0"),
    ),
    Spec(
        "meniscal-tear", "Meniscal tear of the knee (current or old)",
        "Meniscus tear incl. posterior-horn derangement: current tears S83.2- (all 7th characters) and old"
        " tears / derangement of the posterior horn M23.22- / M23.25- (KB §3.1). Imaging: radiograph then"
        " MRI without contrast (KB §2.3). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["239720000", "307945003", "308849005", "5313005", "77860008"],
        icd=F("S83.2") + F("M23.22") + F("M23.25"),
    ),
    Spec(
        "knee-ligament-injury", "Cruciate ligament injury (ACL / PCL)",
        "ACL and PCL sprain/rupture: S83.51- and S83.52- (all 7th characters) and the SNOMED ACL/PCL"
        " concepts (KB §3.1). Gap: no verified SNOMED for PCL sprain/injury short of rupture (KB §3.6)."
        " Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["438582003", "239725005", "239727002"],
        icd=F("S83.51") + F("S83.52"),
    ),
    Spec(
        "hamstring-injury", "Hamstring strain / injury",
        "Strain of the posterior thigh muscle group S76.31- (all 7th characters) and SNOMED hamstring"
        " sprain/strain. 262992000 has unknown status and 481000119104 is a US-extension code (KB §7):"
        " input matching. Generic 'Tendinitis' 34840004 and the M76.89- enthesopathy mapping (~) are left"
        " out as not hamstring-specific. Sources: S-CORE, S-IPS, ICD-10-CM." + ICD_TAIL,
        snomed=["262992000", "481000119104"],
        icd=F("S76.31"),
    ),
    Spec(
        "calf-muscle-injury", "Calf (gastrocnemius) muscle strain or rupture",
        "'Tennis leg' / medial gastrocnemius tear: strain of posterior-group muscles at lower-leg level"
        " S86.11- (all 7th characters) and non-traumatic muscle rupture, lower leg M62.16- (KB §3.1)."
        " A DVT mimic: venous duplex first if there is calf swelling (KB §2.3). No SNOMED: specific codes"
        " not verified and the generic fallbacks (muscle strain, rupture of muscle) are not calf-specific."
        + ICD_TAIL,
        icd=F("S86.11") + F("M62.16"),
    ),
    Spec(
        "knee-osteoarthritis", "Osteoarthritis of the knee",
        "Knee OA: clinical diagnosis per NICE NG226, imaging only if needed (KB §2.3). All of M17 (primary,"
        " post-traumatic, secondary, unspecified). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["239873007"],
        icd=F("M17", added="Post-traumatic / secondary knee OA (M17.2-M17.5): same clinical concept; the KB names only M17.0, M17.1x and M17.9."),
    ),
    Spec(
        "popliteal-artery-aneurysm", "Popliteal artery aneurysm",
        "Popliteal artery aneurysm (PAA): vascular referral; with acute pain it is a limb-threat feature"
        " (KB §2.3, Appendix A). I72.4 covers any lower-extremity artery aneurysm (no laterality or"
        " popliteal-specific code). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["48273005"],
        icd=K("I72.4", note="Aneurysm of any artery of the lower extremity, not only popliteal."),
    ),
    Spec(
        "acute-limb-ischaemia", "Acute arterial occlusion / limb ischaemia of the leg",
        "Coded arterial occlusion or critical ischaemia of the leg for the 'critical' limb-threat card"
        " (KB §2.4 rule 2). 54687002 (arterial embolism) is not limb-specific and 233962007 (critical"
        " lower limb ischaemia) is usually chronic: both carry notes. Gap: no verified SNOMED for 'acute"
        " limb ischaemia' itself (KB §3.6). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["90958004", "54687002", "233962007"],
        icd=K("I74.3"),
        notes={"54687002": "Arterial embolism of any site: needs leg context (bodySite / leg symptoms).",
               "233962007": "Usually chronic limb-threatening ischaemia; acute only with new symptoms."},
    ),
    Spec(
        "limb-ischaemia-signs", "Limb-ischaemia signs (numbness, paraesthesia, pallor)",
        "Coded signs that, when NEW and in the symptomatic leg, point to acute limb ischaemia (KB Appendix"
        " A 'limb_threat'). All are nonspecific (chronic neuropathy, anaemia): the rule must require recent"
        " onset and leg context. Gap: no verified code for cold limb, absent pulse or pallor of the leg"
        " (KB §3.6); R23.1 is generic pallor. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["309537005", "91019004"],
        icd=K("R20.0", "R20.2", note="Skin sensory disturbance of any site: needs recent onset and leg context.")
        + K("R23.1", note="Pallor (any cause, e.g. anaemia): not limb-specific."),
        notes={"91019004": "Paraesthesia of any site: needs recent onset and leg context."},
    ),
    Spec(
        "peroneal-nerve-entrapment", "Common peroneal (fibular) nerve lesion / foot drop",
        "Common peroneal neuropathy (G57.3-, 'lesion of lateral popliteal nerve', incl. peroneal nerve"
        " palsy) and foot drop (M21.37-, 6077001), KB §3.1. Foot drop also has central and radicular causes."
        " Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["399081005", "6077001"],
        icd=F("G57.3") + F("M21.37"),
    ),
    Spec(
        "septic-arthritis", "Septic (pyogenic) arthritis",
        "Known or suspected septic arthritis (KB §2.4 rule 3: 'critical'). Knee leaves of M00 (staph"
        " M00.06-, other bacteria M00.86-, plus pneumococcal M00.16- and streptococcal M00.26- added here)"
        " and M00.9. 48245008 / 396234004 are not knee-specific. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["239777004", "48245008", "396234004"],
        icd=F("M00.06") + F("M00.86")
        + F("M00.16", added="Pneumococcal arthritis, knee: same concept (pyogenic knee arthritis); the KB names M00.06x / M00.86x only.")
        + F("M00.26", added="Other streptococcal arthritis, knee: same concept (pyogenic knee arthritis); the KB names M00.06x / M00.86x only.")
        + K("M00.9"),
    ),
    Spec(
        "fever", "Fever",
        "Coded fever (septic-arthritis rule; KB §2.4). Measured temperature is in body-temperature"
        " (>= 38.0 °C per Appendix A). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["386661006"],
        icd=K("R50.9", "R50.82"),
    ),
    Spec(
        "dyspnoea", "Dyspnoea / shortness of breath",
        "PE feature (KB §1.6, Appendix A 'pe_features'). Sources: S-CORE, ICD-10-CM. Gap: R06.03 (acute"
        " respiratory distress) and other R06.0- leaves are not named by the KB." + ICD_TAIL,
        snomed=["267036007"],
        icd=K("R06.00", "R06.02"),
    ),
    Spec(
        "pleuritic-chest-pain", "Pleuritic or unspecified chest pain",
        "PE feature 'pleuritic/chest pain' (KB Appendix A). Includes generic chest pain (29857009, R07.9)"
        " on purpose, as Appendix A does; cardiac chest pain is also an emergency. Sources: S-CORE,"
        " ICD-10-CM." + ICD_TAIL,
        snomed=["2237002", "29857009"],
        icd=K("R07.81", "R07.1", "R07.9"),
        notes={"29857009": "Generic chest pain (not only pleuritic).", "R07.9": "Chest pain, unspecified (not only pleuritic)."},
    ),
    Spec(
        "haemoptysis", "Haemoptysis",
        "PE feature; PE-Wells +1 and PERC (KB §1.6). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["66857006"],
        icd=K("R04.2"),
    ),
    Spec(
        "syncope", "Syncope",
        "PE feature (KB §1.6). R55 'Syncope and collapse': the KB marks it 'not checked'; it is a billable"
        " leaf of the April 2026 release (checked here). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["271594007"],
        icd=K("R55"),
    ),
    Spec(
        "tachycardia", "Tachycardia (coded)",
        "Coded tachycardia as a PE feature; measured heart rate is in heart-rate (HR > 100, KB §1.6)."
        " Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["3424008"],
        icd=K("R00.0"),
    ),
    Spec(
        "tachypnoea", "Tachypnoea (coded)",
        "Coded tachypnoea as a PE feature; measured rate is in respiratory-rate (RR > 20, KB Appendix A)."
        " SNOMED only: the KB gives no ICD-10-CM code (R06.82 'Tachypnea, not elsewhere classified' exists"
        " but is not in the KB, so it is not added). Sources: S-CORE.",
        snomed=["271823003"],
    ),
    Spec(
        "hypoxaemia", "Hypoxaemia (coded)",
        "Coded hypoxaemia as a PE feature; measured SpO2 is in oxygen-saturation (< 95 %, KB §1.6)."
        " Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["389087006"],
        icd=K("R09.02"),
    ),
    Spec(
        "unexplained-weight-loss", "Unexplained / abnormal weight loss",
        "Malignancy red flag (KB §2.4 rule 5, Appendix A). 89362005 'Weight loss' includes intentional"
        " weight loss (note). Sources: S-CORE, S-VSAC, ICD-10-CM." + ICD_TAIL,
        snomed=["422868009", "89362005"],
        icd=K("R63.4"),
        notes={"89362005": "Any weight loss, incl. intentional: weaker than 422868009."},
    ),
    Spec(
        "night-sweats", "Night sweats",
        "Malignancy red flag (KB Appendix A). R61 is 'Generalized hyperhidrosis', where the ICD-10-CM index"
        " sends night sweats (KB marks the mapping ~). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["42984000"],
        icd=K("R61", note="Generalized hyperhidrosis; night sweats by index convention (KB ~)."),
    ),
    Spec(
        "soft-tissue-sarcoma", "Soft-tissue sarcoma / soft-tissue malignancy of the lower limb",
        "Synovial sarcoma and other soft-tissue malignancy of the lower limb (urgent sarcoma pathway,"
        " KB §2.3). C49.2- is malignant neoplasm of connective and soft tissue of the lower limb incl. hip"
        " (synovial-sarcoma morphology 9040/3 is not in ICD-10-CM). 424413001 'Sarcoma' and 302851001 are"
        " not site-specific. Bone malignancy is in bone-malignancy-lower-limb. Sources: S-VSAC, S-CORE,"
        " ICD-10-CM." + ICD_TAIL,
        snomed=["302851001", "721579004", "94057003", "424413001"],
        icd=F("C49.2"),
    ),
    Spec(
        "bone-malignancy-lower-limb", "Malignant neoplasm of bone, lower limb (primary) or secondary bone",
        "Bone sarcoma around the knee (long bones of the lower limb, C40.2-) and secondary malignancy of"
        " bone (C79.51, any bone), KB §3.1 'Soft-tissue malignancy LL' row and §2.3 'Tumour'. No verified"
        " SNOMED in the KB." + ICD_TAIL,
        icd=F("C40.2") + K("C79.51", note="Secondary malignant neoplasm of any bone, not only the leg."),
    ),
    Spec(
        "knee-trauma", "Acute knee injury (initial encounter)",
        "Acute knee trauma for the Ottawa knee rule and ACR 'Acute trauma to the knee' (KB §2.1-§2.2):"
        " every S83- (dislocation, sprain and tear of knee joints and ligaments, incl. meniscal tears) leaf"
        " with 7th character A (initial encounter) - D (subsequent) and S (sequela) are not acute - plus"
        " the SNOMED knee-injury concepts. The rule must also check recency (Ottawa: injury <= 7 days)."
        " Gap: no specific hyperextension code (KB §3.1). Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["125601008", "54888009", "58320001", "438582003", "239725005", "239727002",
                "307945003", "308849005"],
        icd=F("S83", seventh="A"),
    ),
    Spec(
        "knee-dislocation", "Knee (tibiofemoral) dislocation, initial encounter",
        "Knee dislocation -> 'critical' (risk of popliteal artery injury; KB §2.4 rule 6, §2.1): S83.1-"
        " leaves with 7th character A (subluxation and dislocation of the tibiofemoral joint). Patellar"
        " dislocation (S83.0-) is not a knee dislocation and is not here. Popliteal artery injury is in"
        " popliteal-artery-injury. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["58320001"],
        icd=F("S83.1", seventh="A"),
    ),
    Spec(
        "popliteal-artery-injury", "Popliteal artery injury, initial encounter",
        "Injury of the popliteal artery (S85.0- with 7th character A), named by the KB with knee"
        " dislocation (§3.1): a vascular emergency. No verified SNOMED in the KB." + ICD_TAIL,
        icd=F("S85.0", seventh="A"),
    ),
    Spec(
        "thrombophilia", "Thrombophilia",
        "Primary (D68.5-) and other (D68.6-, incl. antiphospholipid and lupus anticoagulant syndromes)"
        " thrombophilia: VTE risk context (KB §3.1). Not a Wells item. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["234467004"],
        icd=F("D68.5") + F("D68.6"),
    ),
    Spec(
        "superficial-thrombophlebitis", "Superficial thrombophlebitis / superficial vein thrombosis of the leg",
        "Differential diagnosis of DVT (KB §3.1): superficial vessels of the lower extremities I80.0- and"
        " superficial-vein thrombosis I82.81-. Not DVT and not in dvt-lower-limb. 2477008 is not"
        " leg-specific. Sources: S-CORE, ICD-10-CM." + ICD_TAIL,
        snomed=["2477008"],
        icd=F("I80.0") + F("I82.81"),
    ),
    Spec(
        "cellulitis-leg", "Cellulitis of the leg",
        "Differential diagnosis of DVT (KB §3.1): cellulitis of right / left lower limb. L03.119"
        " (unspecified part of limb) is not named by the KB and is not here. Sources: S-CORE, ICD-10-CM."
        + ICD_TAIL,
        snomed=["238402004"],
        icd=K("L03.115", "L03.116"),
    ),
    # ------------------------------------------------------------------ Observations (LOINC)
    Spec(
        "d-dimer-feu", "D-dimer, FEU units (Observation.code)",
        "D-dimer reported in fibrinogen-equivalent units: the 500 ng/mL FEU and age x 10 (age > 50)"
        " thresholds apply (KB §1.5, §5.9). 48065-7 is verified (S-PACIO, KB §6 S11). Not here: 71427-9"
        " (POC FEU in blood) - its display is on the KB's 'could not verify' list (§3.6). Normalise units"
        " and prefer the lab's referenceRange/interpretation. Sources: S-PACIO, KB6-S11.",
        loinc=["48065-7"],
    ),
    Spec(
        "d-dimer-ddu", "D-dimer, DDU units (Observation.code)",
        "D-dimer reported in D-dimer units (DDU ~ 1/2 FEU): do not apply the FEU cut-offs; use the lab's"
        " referenceRange/interpretation (KB §1.5, §5.9). 48066-5 is verified in KB §6 (S11) and marked"
        " '~authoritative' in §3.4. Sources: KB6-S11, KB-IG-EXAMPLES.",
        loinc=["48066-5"],
    ),
    Spec(
        "body-temperature", "Body temperature (Observation.code)",
        "Measured temperature for the septic-arthritis rule (>= 38.0 °C) and REMEDY admission threshold"
        " (< 35 °C), KB §1.6, Appendix A. 8310-5 plus the site-specific codes the KB lists from the VSAC"
        " BodyTemperature set. Sources: S-FHIRVS, S-VSAC.",
        loinc=["8310-5", "8331-1", "8332-9", "8328-7", "8333-7", "75539-7"],
    ),
    Spec(
        "heart-rate", "Heart rate (Observation.code)",
        "Measured heart rate: PE features HR > 100 (PE-Wells, PERC >= 100) and admission HR > 130"
        " (KB §1.6). Sources: S-FHIRVS, S-VSAC.",
        loinc=["8867-4"],
    ),
    Spec(
        "systolic-blood-pressure", "Systolic blood pressure (Observation.code or component.code)",
        "Measured systolic blood pressure: immediate admission for suspected PE at SBP < 90 mmHg (REMEDY/CKS,"
        " KB §1.6). Read as the Observation's own value or as a component of the blood pressure panel."
        " Sources: S-FHIRVS.",
        loinc=["8480-6"],
    ),
    Spec(
        "blood-pressure-panel", "Blood pressure panel (Observation.code)",
        "The vital-signs blood pressure panel, whose components carry systolic and diastolic pressure."
        " Sources: S-FHIRVS.",
        loinc=["85354-9"],
    ),
    Spec(
        "respiratory-rate", "Respiratory rate (Observation.code)",
        "Measured respiratory rate: PE feature RR > 20 and admission RR > 25 (KB §1.6, Appendix A)."
        " Sources: S-FHIRVS, S-VSAC.",
        loinc=["9279-1"],
    ),
    Spec(
        "oxygen-saturation", "Oxygen saturation (Observation.code)",
        "SpO2: PE feature < 95 % (PERC), admission < 91 % (KB §1.6). 2708-6 (FHIR R4 vital-signs code) and"
        " 59408-5 (pulse oximetry, US Core) - accept both, as the KB says - plus 59410-1 (on room air)."
        " Sources: S-FHIRVS, S-VSAC.",
        loinc=["2708-6", "59408-5", "59410-1"],
    ),
    Spec(
        "crp", "C-reactive protein (Observation.code)",
        "CRP for the septic-arthritis rule ('raised CRP', KB §2.4; use the lab's interpretation)."
        " 1988-5 is only partially verified in the KB (~, one repository): accept on input, confirm before"
        " emitting. Sources: KB-REPO.",
        loinc=["1988-5"],
    ),
    Spec(
        "wbc", "White cell count (Observation.code)",
        "Leukocyte count for the septic-arthritis rule ('raised WBC', KB §2.4). Sources: S-VSAC.",
        loinc=["6690-2"],
    ),
    Spec(
        "pregnancy-status-observation", "Pregnancy status (Observation.code)",
        "Observation 82810-3 'Pregnancy status'; pregnant when the value is SNOMED 77386006 (KB Appendix"
        " A) - some systems send LOINC answer LA15173-0 instead (not verified in the KB). The KB marks"
        " 82810-3 partially verified (~, IG examples). Sources: KB-IG-EXAMPLES.",
        loinc=["82810-3"],
    ),
    Spec(
        "pregnancy-test-observation", "hCG pregnancy test (Observation.code)",
        "Qualitative hCG pregnancy tests (urine, serum/plasma) listed in KB §3.4: a positive result is"
        " pregnancy evidence for the pregnancy pathway. Sources: S-VSAC (PregnancyTest"
        " 2.16.840.1.113883.3.464.1003.111.12.1011).",
        loinc=["2106-3", "2118-8"],
    ),
]


# --------------------------------------------------------------------------- building
def pascal(id_: str) -> str:
    return "".join(part.capitalize() for part in id_.split("-"))


def load_verified() -> dict:
    return json.loads(VERIFIED_CODES.read_text(encoding="utf-8"))


def _concept(code: str, display: str, sources: list[str], note: str | None) -> dict:
    ext = [{"url": CODE_SOURCE_URL, "valueString": s} for s in sources]
    if note:
        ext.append({"url": CODE_NOTE_URL, "valueString": note})
    return {"extension": ext, "code": code, "display": display}


def _input_only_note(entry: dict) -> str | None:
    cur = entry.get("currency", "")
    if "unknown" in cur or "inactive" in cur or entry.get("verification") == "partial":
        why = cur or "KB marks it partially verified (~)"
        return "INPUT-ONLY: match it on input, do not emit it (%s)." % why
    return None


def build_one(spec: Spec, verified: dict) -> dict:
    index = {(e["system"], e["code"]): e for e in verified["codes"]}
    includes: dict[str, list[dict]] = {}

    for system, codes in ((SCT, spec.snomed), (LOINC, spec.loinc), (RXNORM, spec.rxnorm)):
        for code in codes:
            entry = index.get((system, code))
            if entry is None:
                raise KeyError("%s|%s (value set %s) is not in verified-codes.json" % (system, code, spec.id))
            notes = [n for n in (_input_only_note(entry), spec.notes.get(code)) if n]
            includes.setdefault(system, []).append(
                _concept(code, entry["display"], entry["sources"], " ".join(notes) or None)
            )

    seen: set[str] = set()
    for item in spec.icd:
        for code in item.codes():
            if code in seen:
                continue
            seen.add(code)
            if not icd.is_billable(code):
                raise ValueError("%s (value set %s) is not a billable ICD-10-CM leaf" % (code, spec.id))
            tags = [item.tag(code)]
            if code in VSAC_VTE_ICD:
                tags.append(TAG_VSAC)
            notes = []
            if tags[0] == TAG_ADDED:
                notes.append("ADDED: " + item.added)
            elif item.added is not None and item.enum:
                notes.append(item.added)
            if item.note:
                notes.append(item.note)
            if item.kind == "malignant" and cancer_note(code):
                notes.append(cancer_note(code))
            if spec.notes.get(code):
                notes.append(spec.notes[code])
            includes.setdefault(ICD10CM, []).append(
                _concept(code, icd.description(code), tags, " ".join(notes) or None)
            )

    family_notes = {item.code: item.note for item in spec.icd if item.kind == "family" and item.note}
    for header in icd.complete_headers(seen):
        notes = ["Non-billable header: every billable code under it is in this value set, so a record coded "
                 "at this level matches."]
        if family_notes.get(header):
            notes.append(family_notes[header])
        includes.setdefault(ICD10CM, []).append(_concept(header, icd.description(header), [TAG_HEADER], " ".join(notes)))

    if not includes:
        raise ValueError("value set %s is empty" % spec.id)
    return {
        "resourceType": "ValueSet",
        "id": spec.id,
        "url": URL_BASE + spec.id,
        "version": "0.1.0",
        "name": pascal(spec.id),
        "title": spec.title,
        "status": "active",
        "experimental": False,
        "publisher": "posterior-knee-pain CDS project",
        "description": spec.description,
        "compose": {
            "include": [
                {"system": system, "concept": includes[system]}
                for system in SYSTEM_ORDER
                if system in includes
            ]
        },
    }


def render(resource: dict) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def build_all() -> tuple[dict[str, str], str]:
    """Return ({filename: text}, verified-codes text with refreshed 'valueset:' uses)."""
    icd.check_release()
    verified = load_verified()
    ids = [s.id for s in SPECS]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate value set id")
    files: dict[str, str] = {}
    uses: dict[tuple[str, str], list[str]] = {}
    for spec in SPECS:
        vs = build_one(spec, verified)
        files[spec.id + ".json"] = render(vs)
        for inc in vs["compose"]["include"]:
            if inc["system"] == ICD10CM:
                continue
            for c in inc["concept"]:
                uses.setdefault((inc["system"], c["code"]), []).append("valueset:" + spec.id)
    for entry in verified["codes"]:
        other = [u for u in entry.get("uses", []) if not u.startswith("valueset:")]
        entry["uses"] = uses.get((entry["system"], entry["code"]), []) + other
    return files, render(verified)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    files, verified_text = build_all()
    targets = {HERE / name: text for name, text in files.items()}
    targets[VERIFIED_CODES] = verified_text
    stale = [p for p, text in targets.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    expected = set(files) | {VERIFIED_CODES.name}
    extra = sorted(p.name for p in HERE.glob("*.json") if p.name not in expected)
    if args.check:
        for p in stale:
            print("out of date: %s" % p.relative_to(HERE.parent))
        for name in extra:
            print("not produced by the build: valueset/%s" % name)
        return 1 if stale or extra else 0
    for p in stale:
        p.write_text(targets[p], encoding="utf-8")
        print("wrote %s" % p.relative_to(HERE.parent))
    for name in extra:
        print("warning: valueset/%s is not produced by the build" % name)
    print("%d value sets" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
