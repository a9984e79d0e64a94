"""Reading the TOML files users edit (personalities, goal vocabulary, caller lines) with errors they can act on,
and finding the data the project ships (scenarios.json, personalities/) in a checkout or an installed copy."""
from __future__ import annotations

import sysconfig
import tomllib
from pathlib import Path
from typing import Union

from callers.errors import ConfigError

CHECKOUT = Path(__file__).resolve().parents[2]
# Where `pip install .` puts the same files (pyproject.toml's data-files).
INSTALLED = Path(sysconfig.get_path("data")) / "share" / "caller-agent"


def shipped(name: str) -> Path:
    """The project's own copy of a data file or folder: the checkout's (the one users edit) when running from
    one, else the installed copy."""
    in_checkout = CHECKOUT / name
    return in_checkout if in_checkout.exists() else INSTALLED / name


def read_toml(path: Union[str, Path], what: str) -> dict:
    """Parse a TOML file; a missing, unreadable or malformed file is a ConfigError naming it (and the line)."""
    path = Path(path)
    try:
        with open(path, "rb") as source:
            return tomllib.load(source)
    except FileNotFoundError:
        raise ConfigError(str(path), f"{what} file not found") from None
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), f"not UTF-8 text (byte {error.start}): save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already carries "(at line L, column C)".
        raise ConfigError(str(path), f"invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(str(path), f"cannot read {what} file: {error.strerror or error}") from None
