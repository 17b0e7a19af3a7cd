"""Running the CLI in a test and holding it to the one-line-error rule."""
from __future__ import annotations

from rml_lama.cli import main


def one_line_error(capsys, argv, *fragments) -> str:
    """Run `rml-lama ARGV`; assert exit 2 and exactly one stderr line, no traceback, holding every fragment."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err
