"""Operating a deployed journey (`journeys status|pause|resume|stop|enter --stack NAME`).

Everything starts from the stack's CloudFormation outputs (stack.py): the tables, the state
machines, the segment bucket and the segment-entry machine. The commands read and write the
same records the functions do (runtime/store.py), never execution histories.
"""
