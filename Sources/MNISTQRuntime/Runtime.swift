// The int8 inference runtime (work in progress: see issue 3).
