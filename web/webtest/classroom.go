package webtest

// KV is one key and its value as raw JSON.
type KV struct {
	Key, Raw string
}

// Classroom is what a class stores in its first ten minutes, for realistic
// pages in tests and screenshots: counters, JSON records, Russian text, long
// values, keys that need escaping, and markup that must stay text.
func Classroom() []KV {
	return []KV{
		{"key-1", `"value-1"`},
		{"key-2", `"value-2"`},
		{"key-3", `"value-3"`},
		{"key-4", `"value-4"`},
		{"key-5", `"value-5"`},
		{"key-6", `"value-6"`},
		{"key-7", `"value-7"`},
		{"key-8", `"value-8"`},
		{"key-9", `"value-9"`},
		{"key-10", `"value-10"`},
		{"user:42", `{"name":"Аня","group":"ИУ7-31","score":97}`},
		{"user:7", `{"name":"Борис","group":"ИУ7-32","score":88}`},
		{"greeting", `"привет, мир"`},
		{"city", `"Новосибирск"`},
		{"pi", `3.14159`},
		{"colors", `["red","green","blue"]`},
		{"essay", `"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."`},
		{"лекция", `"Сегодня мы разбираем шардирование и репликацию на примере простого key-value хранилища."`},
		{"counter", `1024`},
		{"flag", `true`},
		{"cart:masha", `{"items":["книга","ручка"],"total":450}`},
		{"session-9f2c", `"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dGhpcyBpcyBub3QgYSByZWFsIHRva2Vu"`},
		{"todo:1", `{"title":"shard the proxy","done":false}`},
		{"todo:2", `{"title":"replicate it","done":true}`},
		{"temperature", `-3.5`},
		{"stars", `"★★★☆☆"`},
		{"key with spaces", `"yes, really"`},
		{"a/b?c=d&e", `"url-ish"`},
		{"motd", `"Keys are placed by SHA-256(key) mod N"`},
		{"score:team-red", `12`},
		{"score:team-blue", `15`},
		{"last-deploy", `"2025-03-14T09:26:53Z"`},
		{"key-11", `"value-11"`},
		{"key-12", `"value-12"`},
		{"<b>bold</b>", `"<img src=x onerror=alert(1)>"`},
		{"lang", `"go"`},
		{"answer", `42`},
		{"empty-list", `[]`},
		{"big", `"Сегодня мы разбираем шардирование и репликацию на примере простого key-value хранилища."`},
	}
}

// Students returns the node names of a class of 40, as students name their
// nodes: short and long (up to 16 characters, the longest
// "fatima-al-rashid"), Latin transliterations of Russian names, digits.
// All are valid node names. Tests of the projector layout use them.
func Students() []string {
	return []string{
		"anya", "boris", "vera", "gleb", "darya-k", "egor", "zhenya", "zoya",
		"ivan-petrov", "katya", "lev", "masha-ivanova", "nikita", "olga", "pavel-smirnov", "rita",
		"sasha-2", "timur", "ulyana", "fedor", "fatima-al-rashid", "khristina", "tsvetana", "chingiz",
		"shamil", "yulia", "yaroslav-kuzmin", "alexander-novik", "oleksandra", "mohammed-hassan", "li-wei", "nguyen-van-an",
		"kv1", "kv2", "node-5000", "laptop-17", "student_33", "mariya-sokolova", "konstantin-ivan", "evgenia-orlova",
	}
}
