from catalog.ids import MAX_ID, MAX_PAGE, id_from, ids_from, page_from


def test_it_reads_an_id_a_database_can_hold():
    assert id_from("42") == 42
    assert id_from(" 7 ") == 7
    assert id_from(str(MAX_ID)) == MAX_ID


def test_it_refuses_what_is_no_row_id():
    # a number past 63 bits was a 500 (OverflowError) on the review lists (QA 2026-12-06);
    # "²" passes str.isdigit() and int() raises on it
    for text in (str(MAX_ID + 1), "99999999999999999999", "0", "-5", "abc", "", None, "²", "１２",
                 "1.5", "1e3"):
        assert id_from(text) is None, text


def test_it_keeps_the_ids_among_values_in_order():
    assert ids_from(["3", "x", "99999999999999999999", "1", "²"]) == [3, 1]


def test_it_reads_whole_numbers_within_a_bound():
    from catalog.ingest.numbers import digits_from

    assert digits_from("0") == 0 and digits_from(" 12 ") == 12
    assert digits_from("13", most=12) is None
    for text in ("²", "١", "-1", "", None, "1 2"):
        assert digits_from(text) is None, text


def test_it_reads_a_page_number_first_for_junk_and_capped_for_any_large_number():
    assert [page_from(t) for t in (None, "", "0", "-2", "x", "²", " 3 ")] == [1] * 6 + [3]
    # past the cap, whether a database could hold it or not: the capped page, not the first
    assert page_from(str(MAX_PAGE + 1)) == page_from(str(MAX_ID)) == MAX_PAGE
    assert page_from("9" * 40) == MAX_PAGE and page_from(str(MAX_PAGE)) == MAX_PAGE
