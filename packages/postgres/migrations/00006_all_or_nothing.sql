-- A guard for statements that must write every row they were given or none
-- (Stores.completeAndResumeMany). Never edit once released: add a new numbered file instead.

-- Called in such a statement's final SELECT, once per kind of row (`what`), with how many
-- rows its data-modifying CTEs wrote and how many they had to: when the numbers differ (a
-- job's lease was lost, an execution's version moved on) it raises SQLSTATE FM001, naming
-- `what`, which undoes the whole statement, and the caller writes the batch another way.
-- Returns true otherwise. The server logs each such ERROR with its statement.
CREATE FUNCTION assert_all_written(what text, written bigint, expected bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF written IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'flowmonkey: % of % % written; the statement is undone', written, expected, what
      USING ERRCODE = 'FM001';
  END IF;
  RETURN true;
END
$$;
