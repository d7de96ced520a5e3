"""Volume labels are placed clear of every box: the grid that files the boxes taken (outputs/poster/finish.py) gives
the answer testing every box gives, boxes that just touch the 2-point gap included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from outputs.poster.finish import TakenBoxes, _clear

# Coordinates on a 0.5-point grid, so that gaps of exactly 2 points (the edge of clear) are drawn often.
coordinates = st.integers(min_value=-2000, max_value=2000).map(lambda v: v / 2)
sizes = st.integers(min_value=0, max_value=1200).map(lambda v: v / 2)
boxes = st.tuples(coordinates, coordinates, sizes, sizes)


@settings(max_examples=300, deadline=None)
@given(st.lists(boxes, max_size=60), st.lists(boxes, min_size=1, max_size=20))
def test_the_grid_answers_as_every_box_does(taken: list, asked: list) -> None:
    grid = TakenBoxes(taken)
    for box in asked:
        assert grid.clear(box) == _clear(box, taken)


def test_boxes_two_points_apart_are_clear_and_closer_ones_are_not() -> None:
    grid = TakenBoxes([(0.0, 0.0, 10.0, 10.0)])
    assert grid.clear((12.01, 0.0, 10.0, 10.0)) and not grid.clear((12.0, 0.0, 10.0, 10.0))
    assert grid.clear((0.0, -12.01, 10.0, 10.0)) and not grid.clear((0.0, -11.0, 10.0, 10.0))
    grid.add((500.0, 500.0, 2000.0, 40.0))  # a footer as wide as the poster reaches every cell it spans
    assert not grid.clear((-400.0, 500.0, 10.0, 10.0))
