"""Tests of txcloud.compute.drivers.ec2.query.selection_params."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.ec2.query import selection_params
from txcloud.errors import InvalidArgumentError


class SelectionParamsTests(SynchronousTestCase):
    def test_given_lists_then_filters_are_numbered(self) -> None:
        params = selection_params(
            [("ImageId", ["ami-1", "ami-2"], "ids"), ("Owner", None, "owners")],
            {"state": "available"},
        )
        self.assertEqual(
            list(params.items()),
            [
                ("ImageId.1", "ami-1"),
                ("ImageId.2", "ami-2"),
                ("Filter.1.Name", "state"),
                ("Filter.1.Value.1", "available"),
            ],
        )

    def test_nothing_given_selects_nothing(self) -> None:
        self.assertEqual(selection_params([("GroupId", None, "group_ids")]), {})

    def test_a_bad_list_is_refused_by_its_name(self) -> None:
        error = self.assertRaises(
            InvalidArgumentError, selection_params, [("GroupId", [], "group_ids")]
        )
        self.assertEqual(error.message, "group_ids must not be empty")
