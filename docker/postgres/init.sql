-- One database per collector that spools to PostgreSQL: a spool belongs to one collector (its persistence ids
-- spool-0..N-1 would collide if two collectors shared a journal).
CREATE DATABASE spool_b1;
CREATE DATABASE spool_b2;
