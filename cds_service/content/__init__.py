"""The clinical content, loaded and checked at start-up: the catalogue (cards/catalogue.json) and the value
sets (valueset/). The record and the rules read both; neither is Python."""
