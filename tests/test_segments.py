"""Segment files: the one reader of their lines (language/segments.py), as `journeys enter --segment`
reads them (contacts) and as `journeys test` does (local/segments.py: arrival times and entry events);
each contact checked by the webhook's contact model, bad lines kept aside with their line numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from journeys.language.segments import SegmentError, contacts
from journeys.local.segments import read_segment

START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def test_given_a_csv_segment_with_good_and_bad_lines_then_each_bad_line_has_its_number_and_reason(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('id,email,first_name,tags\nc1,c1@example.com,"Ada, the first",a;b\n\nc2,not-an-email,Bob,\nc3,x@example.com\n')

    found = list(contacts(path))

    assert found[0] == (2, {"id": "c1", "email": "c1@example.com", "first_name": "Ada, the first", "tags": ["a", "b"]}, None)
    assert found[1] == (4, None, "email: Value error, not an email address")
    assert found[2] == (5, {"id": "c3", "email": "x@example.com"}, None)  # missing trailing cells are absent


def test_given_a_jsonl_segment_then_lines_parse_as_contacts_and_broken_json_is_a_bad_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "c1", "plan": "trial"}\n{"id": \n[1]\n{"email": "a@b.example"}\n')

    found = list(contacts(path))

    assert found[0] == (1, {"id": "c1", "plan": "trial"}, None)
    assert [(n, why.split(":")[0]) for n, _, why in found[1:]] == [(2, "not valid JSON"), (3, "expected a JSON object (a contact, or {\"contact\""), (4, "id")]


@pytest.mark.parametrize("name,text,message", [
    ("s.txt", "id\nc1\n", "unknown segment file type '.txt': a segment is a .csv (header row"),
    ("s.csv", "email\na@b.example\n", "line 1: the CSV header has no `id` column"),
    ("s.csv", "\n\n", "the segment is empty"),
    ("s.csv", "", "the segment is empty"),
    ("s.jsonl", "\n\n", "the segment is empty"),
])
def test_given_a_segment_file_that_cannot_be_read_then_one_clear_error_names_the_file_in_both_readers(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    for read in (lambda: list(contacts(path)), lambda: read_segment(path, START)):
        with pytest.raises(SegmentError) as error:
            read()
        assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_given_a_csv_subscribed_cell_then_it_means_what_it_means_to_the_webhook(tmp_path):
    from journeys.language.segments import contacts

    path = tmp_path / "s.csv"
    path.write_text("id,email,subscribed\nc1,a@x.example,false\nc2,b@x.example,true\nc3,c@x.example,yes\n")

    read = {number: (contact, why) for number, contact, why in contacts(path)}

    assert read[2][0]["subscribed"] is False
    assert "subscribed" not in read[3][0]  # true is the stored default; a sender never re-subscribes anyone
    assert read[4][0] is None and "subscribed" in read[4][1]  # "yes" is a 400 at the webhook too



def test_given_a_jsonl_segment_then_contacts_events_and_arrivals_are_read(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "c1", "email": "a@example.com"}\n\n'
                    '{"contact": {"id": "c2", "subscribed": "no"}, "event": {"topic": "x"}, "at": "+26h"}\n'
                    '{"contact": {"id": "c3"}, "at": "2026-01-06T00:00:00Z"}\n')

    segment = read_segment(path, START)

    assert [(e.line, e.contact["id"], e.at) for e in segment.entries] == [
        (1, "c1", START), (3, "c2", START + dt.timedelta(hours=26)), (4, "c3", dt.datetime(2026, 1, 6, tzinfo=dt.timezone.utc))]
    assert segment.entries[1].contact["subscribed"] is False  # as the webhook stores "no"
    assert segment.entries[1].event == {"topic": "x"} and segment.bad_lines == []


def test_given_bad_lines_then_each_is_reported_with_its_number_and_the_rest_is_kept(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "ok"}\nnot json\n{"email": "a@example.com"}\n{"id": "t", "timezone": "Mars/Olympus"}\n'
                    '{"contact": {"id": "late"}, "at": "+soon"}\n[1, 2]\n')

    segment = read_segment(path, START)

    assert [e.contact["id"] for e in segment.entries] == ["ok"]
    lines = dict(segment.bad_lines)
    assert sorted(lines) == [2, 3, 4, 5, 6]
    assert "not valid JSON" in lines[2] and lines[3].startswith("id: ") and lines[4].startswith("timezone: ")
    assert lines[5].startswith("at: ")


def test_given_a_csv_segment_then_lists_split_on_semicolons_and_empty_cells_are_absent(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,email,tags,company_size,subscribed,at\n"
                    "c1,a@example.com,vip; trial,120,,\n"
                    "c2,,,,false,+2h\n"
                    "c3,not-an-email,,,,\n")

    segment = read_segment(path, START)

    assert [e.contact for e in segment.entries] == [
        {"id": "c1", "email": "a@example.com", "tags": ["vip", "trial"], "company_size": "120"},
        {"id": "c2", "subscribed": False}]
    assert segment.entries[1].at == START + dt.timedelta(hours=2)
    assert [line for line, _ in segment.bad_lines] == [4]


def test_given_one_segment_then_aws_entry_and_the_rehearsal_read_the_same_contacts_and_bad_lines(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "c1", "tags": ["a"]}\n{"contact": {"id": "c2", "subscribed": "no"}, "at": "+1h"}\n'
                    '{"id": "c3", "email": "nope"}\n{"contact": {"id": "c4"}, "extra": 1}\n')

    on_aws = list(contacts(path))
    rehearsed = read_segment(path, START)

    assert [(n, c) for n, c, why in on_aws if c] == [(e.line, e.contact) for e in rehearsed.entries]
    assert [(n, why) for n, c, why in on_aws if why] == rehearsed.bad_lines
    assert rehearsed.entries[1].at == START + dt.timedelta(hours=1)


def test_given_spreadsheet_style_csv_rows_then_missing_trailing_cells_are_absent_and_comma_rows_are_blank(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,email,tags\r\nada,ada@example.com\r\n,,\r\n,\r\nbob,b@x.example,a;b,extra\r\n", encoding="utf-8")

    found = list(contacts(path))

    assert found == [(2, {"id": "ada", "email": "ada@example.com"}, None), (5, None, "4 cells, the header has 3")]
    assert [(e.line, e.contact) for e in read_segment(path, START).entries] == [(2, {"id": "ada", "email": "ada@example.com"})]


def test_given_a_quoted_cell_holding_a_line_break_then_the_file_is_refused_naming_the_lines(tmp_path):
    # a contact cut in two would enter its second half as a contact of its own (id 'line two"')
    path = tmp_path / "s.csv"
    path.write_text('id,note\nada,"line one\nline two"\nbob,x\n', encoding="utf-8")

    for read in (lambda: list(contacts(path)), lambda: read_segment(path, START)):
        with pytest.raises(SegmentError, match="lines 2-3: a quoted cell holds a line break"):
            read()


def test_given_unicode_line_separators_inside_a_cell_then_the_line_stays_whole(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,note\nada,a\u2028b\x0cc\nbob,x\n", encoding="utf-8")

    assert list(contacts(path)) == [(2, {"id": "ada", "note": "a\u2028b\x0cc"}, None), (3, {"id": "bob", "note": "x"}, None)]
