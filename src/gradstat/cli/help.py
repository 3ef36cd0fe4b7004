"""Help text for every command: plain text, with each option's default shown."""

from __future__ import annotations

import argparse
import copy


def _says_nothing(default: object) -> bool:
    return default is None or default is False


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's default-showing formatter that also shows the default of an option without help.

    Defaults of ``None`` and ``False`` (an option left out, a flag not given) say nothing and are
    not shown.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if _says_nothing(action.default):
            return action.help
        return super()._get_help_string(action)

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and action.option_strings and not _says_nothing(action.default):
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)
