"""Measurement: `parley eval` and `parley bench`. Nothing on a serving path imports this package."""
