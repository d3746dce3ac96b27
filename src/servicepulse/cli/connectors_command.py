"""`servicepulse connectors check [VENDOR] [--show]`: which helpdesk connectors are switched on, and whether
their mappings (the shipped default with your overrides) are valid, before a helpdesk's call meets a 503."""

from __future__ import annotations

import typer
import yaml

from servicepulse.cli.app import app
from servicepulse.cli.context import console
from servicepulse.connectors import VENDORS, load_mapping
from servicepulse.connectors.settings import connector_settings
from servicepulse.errors import ConfigurationError, ValidationFailed

connectors_app = typer.Typer(help="Helpdesk connectors (Zendesk, Freshdesk, TOPdesk, Salesforce); see "
                                  "docs/connectors.md.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")


@connectors_app.command("check")
def check(vendor: str = typer.Argument(None, help=f"One of {', '.join(VENDORS)}; all when left out."),
          show: bool = typer.Option(False, "--show", help="Print the mapping in effect (YAML).")) -> None:
    """Say per connector whether it is on (its secret or organisation id set; never shown) and check its mapping."""
    if vendor is not None and vendor not in VENDORS:
        raise ValidationFailed(f"unknown helpdesk {vendor!r}; choose from {', '.join(VENDORS)}")
    settings = connector_settings()
    failed = []
    for name in [vendor] if vendor else VENDORS:
        on = bool(settings.salesforce_organization_id.strip() if name == "salesforce" else settings.secret(name))
        override = settings.mapping_dir / f"{name}.yaml" if settings.mapping_dir else None
        source = str(override) if override is not None and override.is_file() else "shipped default"
        try:
            mapping = load_mapping(name, settings.mapping_dir)
        except ConfigurationError as exc:
            failed.append(name)
            console.print(f"{name}: {'on' if on else 'off'}; mapping NOT valid: {exc}", highlight=False, soft_wrap=True)
            continue
        missing = "organisation id" if name == "salesforce" else "secret"
        console.print(f"{name}: {'on' if on else f'off (no {missing} set)'}; mapping valid ({source}); "
                      f"/api/v1/connectors/{name}", highlight=False, soft_wrap=True)
        if show:
            console.print(yaml.safe_dump(mapping.model_dump(exclude={"vendor"}), sort_keys=False,
                                         allow_unicode=True), highlight=False, soft_wrap=True)
    if failed:
        raise ConfigurationError(f"mapping not valid: {', '.join(failed)}")
