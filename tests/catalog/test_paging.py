import pytest

from catalog.models import Product
from catalog.paging import newest_first

pytestmark = pytest.mark.django_db


def test_it_walks_older_and_back_newer_in_pages_of_one_query(django_assert_num_queries):
    ids = [Product.objects.create(sku=f"P{i}", title="t").pk for i in range(7)]
    rows = Product.objects.all()
    with django_assert_num_queries(1):
        first = newest_first(rows, size=3)
    assert [p.pk for p in first.items] == ids[:-4:-1] and first.newer is None
    second = newest_first(rows, before=first.older, size=3)
    last = newest_first(rows, before=second.older, size=3)
    assert [p.pk for p in second.items] == ids[3:0:-1]
    assert [p.pk for p in last.items] == [ids[0]] and last.older is None
    # back from the last page: the same page as before, and a way further back up
    back = newest_first(rows, after=last.newer, size=3)
    assert [p.pk for p in back.items] == [p.pk for p in second.items]
    assert back.newer == second.items[0].pk and back.older == second.older
