"""XML read safely (defusedxml): entity declarations (billion laughs), external entities and
external DTDs are refused, so a hostile file can neither exhaust memory nor read other files."""

from __future__ import annotations

import os
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

from engine.annotations.regions import AnnotationError


def parse_xml(path: str | os.PathLike) -> Element:
    """The root element of the XML file at `path`; AnnotationError (one line) when it is
    malformed or hostile."""
    name = os.fspath(path)
    try:
        return SafeTree.parse(name, forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise AnnotationError(f"{name}: refused, the XML declares entities or external references "
                              f"({type(exc).__name__})") from None
    except ParseError as exc:
        raise AnnotationError(f"{name}: not well-formed XML ({exc})") from None
    except OSError as exc:
        raise AnnotationError(f"{name}: cannot read ({exc.strerror or exc})") from None


def number(element: Element, tag: str, where: str) -> float:
    """The number in child `tag` (or attribute `tag`) of `element`; AnnotationError naming `where`."""
    text = element.get(tag)
    if text is None:
        child = element.find(tag)
        text = child.text if child is not None else None
    try:
        return float(str(text).strip())
    except ValueError:
        raise AnnotationError(f"{where}: {tag} is {text!r}, not a number") from None
