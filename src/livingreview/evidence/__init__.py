"""Domain logic on data frames: reports (the pooling unit), regimens, claims, designs, and the analyses of
one disease. No HTML, no charts."""
