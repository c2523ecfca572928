# expect: runtime: timp
while True:
    pass
