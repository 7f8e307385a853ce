"""Build hook: compile the gettext catalogs into the wheel.

The .mo files are build products (not in git), and an installed bot may have no writable
package directory to compile them into later, so ``build_py`` compiles every
``locales/<lang>/LC_MESSAGES/messages.po`` it copies, exactly as scripts/compile-catalogs.sh
does in a checkout. Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_catalogs(build_py):  # noqa: N801 - setuptools' command naming
    def run(self) -> None:
        super().run()
        from babel.messages.frontend import CommandLineInterface

        locales = Path(self.build_lib) / "locales"
        if not any(locales.glob("*/LC_MESSAGES/messages.po")):
            raise SystemExit(f"kua build: no catalogs under {locales}")
        # Babel's own compile command: same checks and output as the script (fuzzy skipped).
        status = CommandLineInterface().run(["pybabel", "compile", "-d", str(locales), "-D", "messages"])
        if status:
            raise SystemExit("kua build: compiling the catalogs failed")


setup(cmdclass={"build_py": build_py_with_catalogs})
