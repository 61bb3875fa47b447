// Host-side utilities shared by the libraries: atomic file writes, progress lines, SVG plots (see issue 2).
