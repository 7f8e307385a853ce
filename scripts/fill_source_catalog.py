"""Fill empty entries of the source-language catalog with their msgids (see extract-messages.sh)."""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string or ()):
                message.string = (message.id[0],) + (message.id[1],) * (catalog.num_plurals - 1)
        elif not message.string:
            message.string = message.id
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=76, omit_header=False)


if __name__ == "__main__":
    main(sys.argv[1])
