"""The Glenmuir demo map: a fictional Health and Social Care Partnership's unscheduled care for adults."""
