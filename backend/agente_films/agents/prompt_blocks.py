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

# A regeneration: the producer pressed "regenerate" on one stage; it is in force in the revision it
# names only (the block stays in the state afterwards, as the record of what was regenerated).
REGENERATE = """
A regeneration the producer asked for ({"stage": ..., "revision": ...}; empty if none). When its
revision is the current revision and its stage is yours ("writers_room" for the writers' room,
"box_office", "casting"), write a fresh take that differs from your previous work:
<regenerate>
{regenerate?}
</regenerate>
"""

# Sections of the outline the producer wrote by hand ({"sections": [...], "revision": ...}).
PRODUCER_EDITS = """
Sections of the outline the producer edited by hand (the producer's version):
<producer_edits>
{producer_edits?}
</producer_edits>
"""
