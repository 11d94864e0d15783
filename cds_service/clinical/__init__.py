"""The clinical domain: value sets, the patient's facts, the guideline rules, and the cards they become."""
