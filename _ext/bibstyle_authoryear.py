"""An author-year reference list for sphinxcontrib-bibtex.

The book cites in the text by author and year (``bibtex_reference_style: author_year``), but
pybtex's bibliography styles label the list entries alphabetically ([HS97]) or by number. This
extension registers three pybtex plugins so that the list uses the same author-year form:

* the label style ``author_year`` gives "Elman, 1990", "Hochreiter and Schmidhuber, 1997" and
  "Pascanu et al., 2013": last names (with any "von" part), then the year, exactly as the in-text
  citations of sphinxcontrib-bibtex's ``author_year`` referencing style write them. Without an
  author it falls back on the editor, then on the title, as those citations do;
* the sorting style ``author_year`` orders the list as a reader scans it for a label: by the
  names in the label ("Lechner" before "Lechner et al."), then by year, then by title;
* the formatting style ``author_year`` is pybtex's ``unsrt`` (which prints ``url`` and ``doi``
  as links) with those labels and that order.

Select it with ``bibtex_default_style = "author_year"``.
"""
from __future__ import annotations

from collections import Counter, defaultdict

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle

NAME = "author_year"


def _last_name(person) -> str:
    parts = [*person.rich_prelast_names, *person.rich_last_names]
    return " ".join(str(part.render_as("text")) for part in parts)


def _who(entry) -> str:
    for role in ("author", "editor"):
        persons = entry.persons.get(role)
        if persons:
            names = [_last_name(p) for p in persons]
            if len(names) == 1:
                return names[0]
            if len(names) == 2:
                return f"{names[0]} and {names[1]}"
            return f"{names[0]} et al."
    title = entry.fields.get("title", "")
    return str(Text.from_latex(title).render_as("text")) if title else entry.key


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Author, Year", "A and B, Year" or "A et al., Year"; duplicates get a, b, ..."""

    def format_label(self, entry) -> str:
        year = entry.fields.get("year", "")
        return f"{_who(entry)}, {year}" if year else _who(entry)

    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        counts = Counter(labels)
        seen: defaultdict[str, int] = defaultdict(int)
        for label in labels:
            if counts[label] > 1:
                suffix = "abcdefghijklmnopqrstuvwxyz"[seen[label] % 26]
                seen[label] += 1
                yield label + suffix
            else:
                yield label


class AuthorYearSortingStyle(BaseSortingStyle):
    """Order by the label's names, then year, then title."""

    def sorting_key(self, entry):
        fields = entry.fields
        return (_who(entry).lower(), fields.get("year", ""), fields.get("title", "").lower())


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries (with URL and DOI links), author-year labels, author-year order."""

    default_label_style = NAME
    default_sorting_style = NAME


def register() -> None:
    pybtex.plugin.register_plugin("pybtex.style.labels", NAME, AuthorYearLabelStyle, force=True)
    pybtex.plugin.register_plugin("pybtex.style.sorting", NAME, AuthorYearSortingStyle, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", NAME, AuthorYearStyle, force=True)


register()


def setup(app):
    register()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
