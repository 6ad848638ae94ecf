with source as (
    {{ latest_version(source('city', 'council_meetings'), ['meeting_id'], 'updated_at') }}
)

select
    meeting_id,
    grid_code,
    held_on,
    topic,
    attendees,
    party_member_attendees,
    cases_raised,
    outcome,
    updated_at as meeting_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
