"""2. Acute limb ischaemia — critical (ACR AC Sudden Onset of Cold, Painful Leg; SVS popliteal artery
aneurysm guideline; clinical-knowledge.md §2.3, Appendix A).

Criterion, any of:
- a current, recently recorded acute arterial occlusion or critical limb ischaemia;
- ischaemic signs of the leg (pallor, numbness, paraesthesia) recorded recently in at least two entries,
  together with recent leg or knee pain (one sign alone is common and chronic, e.g. neuropathy or
  sciatica; the acute picture is pain with more than one of the Ps);
- a known popliteal artery aneurysm with recent acute knee, calf or leg pain.
"""
from __future__ import annotations

from ..facts import PatientRecord
from . import signals
from .finding import Finding


def acute_limb_ischaemia(record: PatientRecord) -> Finding | None:
    occlusion = record.current("acute-limb-ischaemia", "finding")
    pain = signals.recent_leg_or_knee_pain(record)
    signs = record.current("limb-ischaemia-signs", "finding")
    aneurysm = record.current("popliteal-artery-aneurysm")
    finding = Finding("acute-limb-ischaemia", "critical")
    if occlusion:
        finding.add(occlusion)
    if len({f.evidence.reference for f in signs}) >= 2 and pain:
        finding.add(signs + pain)
    if aneurysm and pain:
        finding.variant = "aneurysm"
        finding.add(aneurysm + pain)
    if not finding.evidence:
        return None
    finding.unknown = ["Cold limb", "Absent foot pulses", "Motor weakness (new)"]
    return finding
