# expect: static
while True:
    try:
        while True:
            pass
    except:
        pass
