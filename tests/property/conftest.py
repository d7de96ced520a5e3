"""Hypothesis profiles for the property tests: `ci` (the default, bounded for `make test`) and `large`
(`make test-property`, HYPOTHESIS_PROFILE=large): the same tests with many more generated cases."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=90, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("large", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
