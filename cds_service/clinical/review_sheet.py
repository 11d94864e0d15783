"""cards/README.md, the clinical review sheet, generated from cards/ so it can never drift from what the
service says: `python -m cds_service.clinical.review_sheet > cards/README.md` (a test checks it is current)."""
from __future__ import annotations

from .engine import REPO_ROOT
from .cards import CardTemplates
from .facts import WINDOWS

ORDER = ["suspected-pe", "acute-limb-ischaemia", "septic-arthritis", "suspected-dvt", "suspected-dvt-pregnancy",
         "known-dvt", "malignancy-red-flags", "knee-trauma-imaging", "bakers-cyst", "internal-derangement",
         "muscle-injury", "knee-osteoarthritis", "popliteal-artery-aneurysm", "nerve-entrapment"]

HEADER = """# Cards: clinical review sheet

Generated from `cards/topics/*.json` by `python -m cds_service.clinical.review_sheet > cards/README.md`;
edit the JSON, not this page. Each card below: when it fires (the rule, in `cds_service/clinical/rules/`),
what it says (per variant), the orders it suggests (FHIR R4 `ServiceRequest`, status `draft`, intent
`proposal`, priority `stat`/`urgent`/`routine` following the card's indicator unless stated), and its sources.

## How the cards are ordered and when one gives way

1. `critical` suspected-pe, acute-limb-ischaemia, septic-arthritis, knee-trauma-imaging (dislocation);
2. `warning` suspected-dvt / suspected-dvt-pregnancy / known-dvt (untreated), malignancy-red-flags,
   knee-trauma-imaging (Ottawa met);
3. `info` known-dvt (treated), knee-trauma-imaging (apply Ottawa), the musculoskeletal causes.

- A PE card replaces the DVT card (suspected or known): it sends the patient to emergency assessment with
  the leg findings listed.
- A current DVT suppresses the suspected-DVT card (known-dvt instead). PE and limb-threat cards still fire.
- A Baker's cyst never lowers the Wells score; with DVT features the DVT card leads and names the cyst,
  and no separate Baker's cyst card is shown.
- Limb ischaemia from a popliteal aneurysm replaces the aneurysm information card; a recent knee injury
  card replaces the meniscal/ligament card.

## Data hygiene and time windows

- Conditions entered-in-error or refuted are ignored; resolved, inactive or in remission (or abated) are
  history — a resolved DVT scores Wells "previously documented DVT" and is not an active clot.
- Observations count only when final, amended or corrected; MedicationRequests only when active.
- A fact is recent inside its window (from the evaluation time):

| Kind of fact | Window |
|---|---|
"""

WINDOW_WORDS = {
    "finding": "Symptoms and signs (swelling, calf pain, dyspnoea, effusion, weight loss, ...)",
    "vital": "Vital signs (heart rate, respiratory rate, SpO₂, temperature)",
    "lab": "D-dimer, CRP, white cell count",
    "trauma": "Knee injury (the Ottawa rule's limit)",
    "msk": "A musculoskeletal diagnosis without current pain",
    "surgery": "Major surgery (Wells item 3)",
    "postpartum": "Delivery (postpartum branch)",
    "pregnancy": "A dated pregnancy code",
    "acute-dvt": "A confirmed DVT counts as current (older: previous DVT, Wells +1)",
}


def _duration(delta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{int(hours)} hours" if hours < 72 else f"{int(hours // 24)} days"


def render(templates: CardTemplates) -> str:
    lines = [HEADER.rstrip("\n")]
    for key, delta in WINDOWS.items():
        lines.append(f"| {WINDOW_WORDS[key]} | {_duration(delta)} |")
    lines.append("\nUndated but active Conditions count (the EHR calls them active); the card says "
                 "\"date not recorded\".\n")
    for topic in ORDER:
        t = templates.topics[topic]
        lines.append(f"## `{topic}` — {t['display']}\n")
        lines.append(f"**Fires when:** {t['rule']}\n")
        lines.append(f"**Source:** [{t['source']['label']}]({t['source']['url']})  ")
        lines.append("**Links:** " + "; ".join(f"[{link['label']}]({link['url']})" for link in t["links"]) + "\n")
        for name, variant in t["variants"].items():
            lines.append(f"- *{name}* — summary: \"{variant['summary']}\"")
            for step in variant["next_steps"]:
                lines.append(f"  - {step}")
            if variant.get("suggestions"):
                lines.append(f"  - suggests: {', '.join(variant['suggestions'])}")
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
    print(render(CardTemplates.load(REPO_ROOT / "cards")), end="")
