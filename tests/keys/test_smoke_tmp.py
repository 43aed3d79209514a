from tests.keys.helpers import make_store

async def test_smoke(rt):
    store, clock = make_store(rt)
    keys = await store.init(["210000"])
    assert len(keys) == 3
    k = await store.active_key("seal", "210000")
    print(k)
