"""README.md's rules × sources table is generated from the catalogue (refiningSources) and the templates."""
from pathlib import Path

from cds_service.clinical.review_sheet import sources_table
from cds_service.content.catalogue import default_catalogue

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_holds_the_current_sources_table():
    assert sources_table(default_catalogue()) in README.read_text(encoding="utf-8"), (
        "README.md 'Partial answers' table is stale: paste the output of "
        "python -c 'from cds_service.clinical.review_sheet import sources_table as t; "
        "from cds_service.content.catalogue import default_catalogue as c; print(t(c()))'")


def test_every_prefetched_resource_type_has_a_policy():
    from cds_service.prefetch.templates import TEMPLATES
    catalogue = default_catalogue()
    for template in TEMPLATES:
        assert template.role == "always" or template.resource_type in catalogue.refining_sources, template.key
