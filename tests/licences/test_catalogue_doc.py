"""docs/licence-kinds.md is the generator's output for the packaged catalogue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from wallet.licences.catalogue import CATALOGUE
from wallet.licences.catalogue_doc import render_markdown

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "licence-kinds.md"


def test_committed_page_equals_the_generators_output():
    # Stale after a catalogue change: run scripts/catalogue_doc and commit the page.
    assert PAGE.read_text(encoding="utf-8") == render_markdown()


def test_page_lists_every_kind_and_its_required_fields_and_codes():
    page = render_markdown()
    for kind in CATALOGUE.values():
        assert f'<a id="kind-{kind.code}"></a>' in page
        assert f"`{kind.type_code}`" in page
        for spec in kind.fields:
            required = "yes" if spec.required else "no"
            assert f"| `{spec.name}` | {spec.label} | {spec.type} | {required} |" in page
            for code in spec.choices or ():
                assert f"`{code}`" in page


def test_script_check_passes_on_the_committed_page():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "catalogue_doc"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_readme_links_the_page():
    assert "docs/licence-kinds.md" in (ROOT / "README.md").read_text(encoding="utf-8")
