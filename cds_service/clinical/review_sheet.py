"""cards/README.md, the clinical review sheet, generated from cards/ (the catalogue and the topics) so it
can never drift from what the service says: `python -m cds_service.clinical.review_sheet > cards/README.md`
(a test checks it is current)."""
from __future__ import annotations

import re

from .cards import CardTemplates
from ..content.catalogue import Catalogue
from .engine import REPO_ROOT

HEADER = """# Cards: clinical review sheet

Generated from `cards/catalogue.json` and `cards/topics/*.json` by `python -m cds_service.clinical.review_sheet > cards/README.md`;
edit the JSON, not this page. The catalogue holds the card order, the variants,
the time windows, the thresholds and the Wells items; each topic file holds its card's words. Each card below: when it fires (the rule, in `cds_service/clinical/rules/`),
what it says (per variant), the orders it suggests (FHIR R4 `ServiceRequest`, status `draft`, intent
`proposal`, priority `stat`/`urgent`/`routine` following the card's indicator unless stated), and its sources.

## How the cards are ordered and when one gives way

1. `critical` suspected-pe, acute-limb-ischaemia, septic-arthritis, knee-trauma-imaging (dislocation);
2. `warning` suspected-dvt / suspected-dvt-pregnancy / known-dvt (untreated), malignancy-red-flags,
   knee-trauma-imaging (Ottawa met);
3. `info` known-dvt (treated), knee-trauma-imaging (apply Ottawa), the musculoskeletal causes.

A current DVT suppresses the suspected-DVT card (known-dvt instead); beside a limb-ischaemia card the
suspected-DVT card takes its 'limb-threat' variant. When one card already explains a finding, the lesser
card gives way (cards/catalogue.json "giveWay", applied in this order):

{give_way}

{replaced_knee}

## Data hygiene and time windows

- Conditions entered-in-error are ignored; a refuted one is a negative test (it closes a DVT or PE
  suspicion for what was recorded before it); resolved, inactive or in remission (or abated) are history —
  a resolved DVT scores Wells "previously documented DVT" and is not an active clot. A PE feature
  (breathlessness, chest pain, haemoptysis, syncope) recorded as resolved still counts for the PE card when
  its episode (abatement, else onset, else recorded date) lies inside the finding window.
- Observations count only when final, amended or corrected. MedicationRequests and MedicationStatements
  count as current when active (completed or stopped: a course that ended); MedicationAdministrations when
  given within the administration window.
- When a refining source could not be read, the cards it could change say so (catalogue "refiningSources"):
{refining}
{unread}
- A fact is recent inside its window (from the evaluation time):

| Kind of fact | Window |
|---|---|
"""

def _duration(delta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{int(hours)} hours" if hours < 72 else f"{int(hours // 24)} days"


def sources_table(catalogue: Catalogue) -> str:
    """The rules × sources policy as a Markdown table (README.md "Partial answers" holds it; a test checks)."""
    from ..prefetch.templates import TEMPLATES  # noqa: PLC0415 - the prefetch layer does not import this module
    rows = ["| Prefetch key (resource) | Role | When it cannot be read | Cards it changes |", "|---|---|---|---|"]
    for template in TEMPLATES:
        kind = template.resource_type
        if template.role == "always":
            rows.append(f"| `{template.key}` ({kind}) | always | 412 | all |")
            continue
        topics, _ = catalogue.refining_sources[kind]
        other = {"conditions": "observations", "observations": "conditions"}.get(template.key)
        effect = f"412 only if `{other}` is unread too; else " if other else ""
        effect += "a line on each card listed" + ("; one incomplete-check card" if kind in catalogue.announced_sources else "")
        rows.append(f"| `{template.key}` ({kind}) | {template.role} | {effect} | "
                    f"{', '.join(t for t in catalogue.clinical_topics if t in topics)} |")
    return "\n".join(rows)


def _filled(text: str, catalogue: Catalogue) -> str:
    """{window:NAME} placeholders as the catalogue's durations."""
    return re.sub(r"\{window:([a-z-]+)\}", lambda m: _duration(catalogue.windows[m.group(1)]), text)


def render(templates: CardTemplates) -> str:
    catalogue: Catalogue = templates.catalogue
    phrases = templates.phrases()
    give_way = "\n".join(
        f"- {'`' + rule.when + '`' if rule.when else 'any `' + rule.when_indicator + '` card'}"
        f"{' (' + ', '.join(sorted(rule.variants)) + ')' if rule.variants else ''} → "
        f"{', '.join(f'`{t}`' for t in rule.yields)} give way"
        f"{' when every finding they rest on is on it' if rule.only_if_shown else ''}"
        f"{' (a line instead: ' + chr(34) + phrases[rule.line_scope][rule.line] + chr(34) + ')' if rule.line else ''}"
        f"{', their findings listed on it' if rule.list_basis else ''}"
        f": {rule.why}." for rule in catalogue.give_way)
    one = catalogue.one_info_card
    give_way += (f"\n\nThen, of {', '.join(f'`{t}`' for t in one.topics)}, one card only (cards/catalogue.json "
                 f"\"oneInfoCard\"): a diagnosis recorded within {_duration(catalogue.windows[one.new_first_within])} "
                 f"leads, else the first in this order; the others give way to a line on it (\"{templates.common[one.line]}\") "
                 f"and their entries are listed on it: {one.why}.")
    refining = "\n".join(f"  - {kind} → {', '.join(sorted(topics))}: \"{templates.common[key]}\""
                          for kind, (topics, key) in catalogue.refining_sources.items())
    measured = "; ".join(f"{vs}: {', '.join(words)}" for vs, words in catalogue.unread_measurement_words.items())
    sides = {"above": ">", "atLeast": "≥", "below": "<", "atMost": "≤"}
    beyond = "; ".join(f"{vs} " + " or ".join(f"{sides[side]} {format(catalogue.thresholds[key].value, 'f')} "
                                             f"{catalogue.thresholds[key].unit} ({key})"
                                             for side, keys in gates.items() for key in keys)
                       for vs, gates in catalogue.unread_named_beyond.items())
    unread = (f"- A Condition or Observation with no coding in a code system the value sets use (text only, a local code, "
              f"WHO ICD-10) is never read for meaning; when its words name a finding this service checks, every card says so "
              f"(\"{templates.common['note.unread-entries']}\"), and with no card an incomplete-check card does (catalogue "
              f"\"unreadEntries\"). Conditions within {_duration(catalogue.windows[catalogue.unread_windows['Condition']])} "
              f"(or undated; a symptom or sign, r34a F1), Observations within {_duration(catalogue.windows[catalogue.unread_windows['Observation']])} "
              f"(one named as a measurement: that measurement's window). The words: value-set displays (not of "
              f"{', '.join(sorted(catalogue.unread_not_by_display))}), the report reader's clot words, the red-flag "
              f"findingWords stems (not {', '.join(sorted(catalogue.unread_except_stems))}; whole words only: "
              f"{', '.join(sorted(catalogue.unread_whole_word_stems))}), the other findingWords stems beside a word naming "
              f"the leg, a WHO ICD-10 code in a category of our ICD-10-CM codes, and the measurement names ({measured}). "
              f"A red-flag diagnosis named is read in the window the rules read it in ("
              f"{', '.join(f'{vs}: {_duration(catalogue.windows[w])}' for vs, w in catalogue.unread_diagnoses.items())}"
              f"{'; a clot named in words: ' + _duration(catalogue.windows[catalogue.unread_clot_window]) if catalogue.unread_clot_window else ''}). "
              f"Not named (r34a F1): a measurement whose value reads as a number within the thresholds the rules read it "
              f"against ({beyond}), or that the coded readings in its window already show as far beyond, or taken at the "
              f"same time as a coded reading of it; an entry whose every clause the text findings' reader reads as denied; a "
              f"red-flag word beside its notBeside words; knee pain alone ({', '.join(sorted(catalogue.unread_entry_condition[0]))}) "
              f"beside no other coded finding in the finding window and no vital sign beyond those thresholds; a swelling "
              f"off the knee on no side beside a current {catalogue.unread_oedema_cause}.\n"
              f"- An entry coded in a system the value sets use but in no value set (r34b S2) is named, within "
              f"{_duration(catalogue.windows[catalogue.unread_coded_window]) if catalogue.unread_coded_window else 'no window'} "
              f"(dated; decided on the date's text first), only when its words state a red flag of the leg as the text readers "
              f"read it: the Ps of limb ischaemia beside a word naming the leg, DVT features of the calf or leg, a clot named "
              f"beside the leg or the lungs ({', '.join(catalogue.unread_coded_clot_places)}), a hot knee.")
    replaced_knee = (f"A replaced knee (cards/catalogue.json \"replacedKnee\"): "
                     f"{', '.join(f'`{t}`' for t in catalogue.clinical_topics if t in catalogue.native_joint_only)} "
                     f"do not fire for a diagnosis of the replaced knee (the same side, or the side unknown on either; "
                     f"a diagnosis of both knees fires unless both are replaced): {catalogue.native_joint_why}.")
    replaced_knee += (f"\n\nAn acute injury (cards/catalogue.json \"acuteInjury\"): "
                      f"{', '.join(f'`{t}`' for t in catalogue.clinical_topics if t in catalogue.acute_injury_topics)} "
                      f"fire only for an injury that began (onset, else recorded) within "
                      f"{_duration(catalogue.windows['msk-injury'])}, with knee pain or not: {catalogue.acute_injury_why}.")
    replaced_knee += (f"\n\nInterim anticoagulation (cards/catalogue.json recordHygiene \"interimCautionCards\", r38b W3): "
                      f"{', '.join(f'`{c}`' for c in sorted(catalogue.hygiene['interimCautionCards']))} offer interim "
                      f"anticoagulation while imaging is awaited; beside antiphospholipid syndrome, established renal "
                      f"failure (dialysis, end-stage or stage 5 disease coded, or the latest eGFR below "
                      f"{catalogue.thresholds['severe-renal-egfr'].value} {catalogue.thresholds['severe-renal-egfr'].unit}) or severe renal impairment (CKD 4 or acute kidney "
                      f"injury coded with no later eGFR of {catalogue.thresholds['renal-impairment-egfr'].value} or more, or "
                      f"a latest eGFR below it: r39 F3, F4), with no anticoagulant given and no pregnancy on record, "
                      f"each adds \"{templates.common['interim-anticoagulation.aps']}\", \""
                      f"{templates.common['interim-anticoagulation.renal']}\" or \""
                      f"{templates.common['interim-anticoagulation.renal-impaired']}\"")
    lines = [HEADER.rstrip("\n").format(give_way=give_way, refining=refining, unread=unread,
                                                   replaced_knee=replaced_knee)]
    for key, delta in catalogue.windows.items():
        lines.append(f"| {catalogue.window_words[key]} | {_duration(delta)} |")
    lines.append("\nAn undated but active Condition counts where no window applies (a cancer, a replaced knee, atrial "
                 "fibrillation: the EHR calls it active), and inside a window only for a pregnancy, a DVT or PE coded as "
                 "suspected and a coded knee-prosthesis infection, which must not vanish; an undated finding "
                 "(breathlessness, a swelling, an effusion, a mass) is never recent, so it cannot fire an acute card at "
                 "every chart opening (r34a N1). The card says \"date not recorded\".\n")
    lines.append("A symptom or sign is dated by the later of its onset and its recordedDate, but one whose recorded onset "
                 "(onsetDateTime, onsetPeriod.start, onsetAge) lies further back than "
                 f"{_duration(catalogue.windows['chronic-finding'])} (and than the rule's own window) is chronic for the "
                 "acute-feature rules, whatever its recordedDate (r36a): no DVT feature (leg swelling, calf pain, a ruptured "
                 "Baker's cyst, leg or knee pain beside a likely Wells), no PE feature or context (breathlessness, chest pain, "
                 "haemoptysis, syncope, coded hypoxaemia, tachypnoea or tachycardia; leg findings, leg or knee pain), no recent "
                 "effusion for the septic-joint card (unless a knee finding of that knee began since, or an NG51 high-risk "
                 "sign is on record). It still counts when it ended inside the window; an entry with no onset, or a recent "
                 "one, and every measured vital sign count as before. Beside a known, treated PE a symptom is new only when "
                 "it began (onset, else recorded) more than a day after the PE. A knee injury with no onset is dated by its "
                 "recordedDate, and the Ottawa card says so.\n")
    lines.append("## Thresholds\n\n| Threshold | Value | Source |\n|---|---|---|")
    for key, limit in catalogue.thresholds.items():
        lines.append(f"| `{key}` | {format(limit.value, 'f')} {limit.unit} | {limit.source} |")
    lines.append(f"\n## Children: NICE NG51 high-risk values by age ({catalogue.paediatric_source})\n\n"
                 "| Under age | Heart rate ≥ | Respiratory rate ≥ | SpO₂ below (sign of sepsis) |\n|---|---|---|---|")
    for band in catalogue.paediatric_bands:
        saturation = band.get("oxygen-saturation")
        lines.append(f"| {band['underAge']} | {band['heart-rate']} /min | {band['respiratory-rate']} /min | "
                     f"{f'{saturation} %' if saturation is not None else '— (from 12: oxygen need, sepsis-oxygen-concentration)'} |")
    lines.append(f"\nUnder 12 a PE feature from SpO₂ is a saturation below {format(catalogue.paediatric_saturation, 'f')} %.")
    for name, score in catalogue.scores.items():
        lines.append(f"\n## Score `{name}` ({score.source})\n\n| Item | Points | Scored from the record as | "
                     f"At the bedside |\n|---|---|---|---|")
        for key, item in score.items.items():
            lines.append(f"| `{key}` | {item['points']:+d} | {item.get('scored', '—')} | {item.get('unknown', '—')} |")
    lines.append("")
    for entry in catalogue.topics:
        topic = entry["topic"]
        t = templates.topics[topic]
        lines.append(f"## `{topic}` — {t['display']}\n")
        lines.append(f"**Fires when:** {_filled(t['rule'], catalogue)}\n")
        lines.append(f"**Stops firing:** {_filled(t['stops'], catalogue)}\n")
        if topic in catalogue.native_joint_only:
            lines.append("**Not for a replaced knee** (catalogue \"replacedKnee\"): a diagnosis of the replaced knee "
                         "(the same side, or the side unknown on either) does not fire this card.\n")
        lines.append(f"**Source:** [{t['source']['label']}]({t['source']['url']})  ")
        lines.append("**Links:** " + "; ".join(
            f"[{link['label']}]({link['url']})" + (f" (only {', '.join(link['variants'])})" if link.get("variants") else "")
            for link in t["links"]) + "\n")
        for name, variant in t["variants"].items():
            lines.append(f"- *{name}* — summary: \"{variant['summary']}\"")
            for step in variant["next_steps"]:
                lines.append(f"  - {step}")
            if variant.get("suggestions"):
                lines.append(f"  - suggests: {', '.join(variant['suggestions'])}")
            if variant.get("source"):
                lines.append(f"  - source: [{variant['source']['label']}]({variant['source']['url']})")
        if t.get("phrases"):
            lines.append("\nFurther words the rule may put on this card (by key):\n")
            lines += [f"- `{key}`: {text}" for key, text in t["phrases"].items()]
        if t.get("orders"):
            lines.append("\n| Order | Category | Code | Priority |\n|---|---|---|---|")
            for key, order in t["orders"].items():
                codes = "; ".join(f"{c['system'].rsplit('/', 1)[-1]} {c['code']} {c['display']}"
                                  for c in order["code"].get("coding", [])) or f"text only: {order['code']['text']}"
                lines.append(f"| {key}: {order['label']} | {order['category']} | {codes} | "
                             f"{order.get('priority', 'by indicator')} |")
        lines.append(f"\nOverride reasons: set `{t['overrideReasons']}` (cards/common.json).\n")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    cards = REPO_ROOT / "cards"
    print(render(CardTemplates.load(cards, Catalogue.load(cards))), end="")
