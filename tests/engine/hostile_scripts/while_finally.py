# expect: runtime: timp
try:
    while True:
        pass
finally:
    while True:
        pass
