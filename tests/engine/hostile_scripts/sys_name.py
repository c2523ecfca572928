# expect: static
sys.exit(1)
