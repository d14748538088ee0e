-- The runs table (0001) was meant for short links to saved scenarios, but
-- nothing ever wrote or read it: every scenario is already a URL. Rooms and
-- lessons add the tables they use in their own migrations.
DROP TABLE IF EXISTS runs;
