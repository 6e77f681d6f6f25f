"""Blocks of session state that several agents' instructions show, in the same words for each: how
the producer directs the pitch (its direction and notes) and which revision it is."""

DIRECTION_AND_NOTES = """
The direction the producer asked for:
<direction>
{direction?}
</direction>

The producer's notes (status "taken" = to apply in this round):
<producer_notes>
{producer_notes?}
</producer_notes>
"""

REVISION = """Revision (0 is the first pitch):
<revision>
{revision?}
</revision>"""
