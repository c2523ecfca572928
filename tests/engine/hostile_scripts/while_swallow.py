# expect: runtime: timp
while True:
    try:
        while True:
            pass
    except Exception:
        pass
