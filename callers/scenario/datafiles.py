"""Reading the TOML files users edit (personalities, goal vocabulary, caller lines) with errors they can act on."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Union

from callers.errors import ConfigError


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
