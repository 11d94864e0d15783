"""The CDS services this server offers, one small module each; discovery lists them in this order."""
from .posterior_knee_pain import SERVICE

SERVICES = {SERVICE.id: SERVICE}
