"""Checks of @@ID@@: behaviour first, then every interleaving the explorer can reach."""


def test_adds_up(submission):
    tally = submission.Tally()
    tally.add(2)
    tally.add(3)
    assert tally.total() == 5, f"after add(2) and add(3), total() should be 5, not {tally.total()!r}"


def test_no_lost_updates(submission, explorer):
    def body(tally):
        tally.add(1)

    def nothing_lost(tally):
        assert tally.total() == 2, (
            f"two threads each called add(1) on a new Tally: total() should be 2, "
            f"not {tally.total()!r}")

    # The explorer runs the two threads one step at a time and tries the interleavings that
    # break code; on failure it shows the shortest interleaving that does.
    explorer.check(submission.Tally, [body, body], invariant=nothing_lost)
