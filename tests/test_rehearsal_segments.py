"""Segment files (journeys/local/segments.py): JSONL and CSV, arrival times, each contact checked
by the webhook's contact model, bad lines kept aside with their line numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from journeys.local.segments import SegmentError, read_segment

START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


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


@pytest.mark.parametrize("name, text, message", [
    ("s.txt", '{"id": "c1"}\n', "unknown segment file type '.txt'"),
    ("s.jsonl", "\n\n", "the segment is empty"),
    ("s.csv", "", "the segment is empty"),
    ("s.csv", "email\na@example.com\n", "no `id` column"),
])
def test_given_an_unusable_segment_file_then_one_error_names_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(SegmentError, match=message) as raised:
        read_segment(path, START)
    assert str(raised.value).startswith(str(path))
