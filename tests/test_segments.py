"""Segment lines -> contacts through the one contact model (language/segments.py)."""

from __future__ import annotations

import pytest

from journeys.language.segments import SegmentError, contacts


def test_given_a_csv_segment_with_good_and_bad_lines_then_each_bad_line_has_its_number_and_reason(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('id,email,first_name,tags\nc1,c1@example.com,"Ada, the first",a;b\n\nc2,not-an-email,Bob,\nc3,x@example.com\n')

    found = list(contacts(path))

    assert found[0] == (2, {"id": "c1", "email": "c1@example.com", "first_name": "Ada, the first", "tags": ["a", "b"]}, None)
    assert found[1] == (4, None, "email: Value error, not an email address")
    assert found[2] == (5, None, "2 cells, the header has 4")


def test_given_a_jsonl_segment_then_lines_parse_as_contacts_and_broken_json_is_a_bad_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "c1", "plan": "trial"}\n{"id": \n[1]\n{"email": "a@b.example"}\n')

    found = list(contacts(path))

    assert found[0] == (1, {"id": "c1", "plan": "trial"}, None)
    assert [(n, why.split(":")[0]) for n, _, why in found[1:]] == [(2, "not JSON"), (3, "expected a JSON object, got list"), (4, "id")]


@pytest.mark.parametrize("name,text,message", [
    ("s.txt", "id\nc1\n", "a .csv (header row"),
    ("s.csv", "email\na@b.example\n", "line 1: the CSV header has no 'id' column"),
    ("s.csv", "\n\n", "empty segment"),
])
def test_given_a_segment_file_that_cannot_be_read_then_a_clear_error_names_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SegmentError, match=str(path).replace(".", r"\.")) as error:
        list(contacts(path))
    assert message in str(error.value)


def test_given_a_csv_subscribed_cell_then_it_means_what_it_means_to_the_webhook(tmp_path):
    from journeys.language.segments import contacts

    path = tmp_path / "s.csv"
    path.write_text("id,email,subscribed\nc1,a@x.example,false\nc2,b@x.example,true\nc3,c@x.example,yes\n")

    read = {number: (contact, why) for number, contact, why in contacts(path)}

    assert read[2][0]["subscribed"] is False
    assert "subscribed" not in read[3][0]  # true is the stored default; a sender never re-subscribes anyone
    assert read[4][0] is None and "subscribed" in read[4][1]  # "yes" is a 400 at the webhook too
